/* config_load: which files make up a component's configuration, in which
 * order (see config.h), and the loading entry point. */
#define KL_LOGMODULE "config"

#include "config/config.h"
#include "config/config_int.h"
#include "config/ini.h"
#include "config/toml.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_ETC "/etc/keylime"
#define DEFAULT_USR_ETC "/usr/etc/keylime"

typedef struct {
    kl_ini *doc;
    const kl_config_spec *spec;
    char conf[64]; /* "registrar.conf" */
    kl_buf text;   /* the file being parsed */
    kl_buf read;   /* ", "-separated names of the files read, for the log */
} loader;

static char *
path_join(const char *dir, const char *name, const char *suffix)
{
    kl_buf b;

    kl_buf_init(&b, 8192);
    if (kl_buf_printf(&b, "%s%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name,
                      suffix) != KL_OK) {
        kl_buf_free(&b);
        return NULL;
    }
    return (char *)kl_buf_take(&b, NULL);
}

static bool
is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static kl_rc
read_one(loader *ld, const char *path)
{
    kl_rc rc = kl_file_read(path, &ld->text);

    if (rc != KL_OK)
        return rc;
    rc = ld->spec->toml ? kl_toml_parse(ld->doc, (const char *)ld->text.ptr, ld->text.len, path)
                        : kl_ini_parse(ld->doc, (const char *)ld->text.ptr, ld->text.len, path);
    if (rc == KL_OK)
        rc = kl_buf_printf(&ld->read, "%s%s", ld->read.len ? ", " : "", path);
    if (rc == KL_ETOOBIG) /* the list for the log only */
        rc = KL_OK;
    return rc;
}

/* KEYLIME_<C>_CONFIG: *done when it named a file, which was read. */
static kl_rc
env_file(loader *ld, bool *done)
{
    char var[96];
    const char *v;

    *done = false;
    if (!kl_config_env_name(var, sizeof(var), ld->spec->component, NULL, "config"))
        return kl_err_set(KL_EINVAL, "config: component name '%s' too long", ld->spec->component);
    v = getenv(var);
    if (!v || !v[0])
        return KL_OK;
    if (is_file(v)) {
        *done = true;
        LOG_INFO("%s: %s replaces the installed configuration", ld->conf, var);
        return read_one(ld, v);
    }
    /* The Rust agent refuses a missing file; the Python components fall
     * back to the installed files. */
    if (ld->spec->toml)
        return kl_err_set(KL_ENOTFOUND,
                          "%s=%s: no such file; point it at an agent.conf or "
                          "unset it",
                          var, v);
    LOG_WARN("%s=%s is not a file; using the installed configuration", var, v);
    return KL_OK;
}

static kl_rc
base_file(loader *ld, const char *etc, const char *usr)
{
    const char *dirs[2] = {etc, usr};
    char *paths[2] = {NULL, NULL};
    kl_rc rc = KL_OK;
    int i;

    for (i = 0; i < 2; i++) {
        paths[i] = path_join(dirs[i], ld->conf, "");
        if (!paths[i]) {
            rc = kl_err_set(KL_ENOMEM, "config: out of memory");
            goto out;
        }
        if (is_file(paths[i])) {
            rc = read_one(ld, paths[i]);
            goto out;
        }
    }
    LOG_WARN("no %s found (looked at %s and %s); using the built-in defaults", ld->conf, paths[0],
             paths[1]);
out:
    kl_free(paths[0]);
    kl_free(paths[1]);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
snippet_name_ok(const loader *ld, const char *name)
{
    size_t n = strlen(name);

    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    /* agent.conf.d takes *.conf only; the Python components take any file */
    return !ld->spec->toml || (n > 5 && !strcmp(name + n - 5, ".conf"));
}

/* The regular files of dir (as full paths), sorted by name. */
static kl_rc
list_snippets(loader *ld, const char *dir, kl_strlist *out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    kl_rc rc = KL_OK;

    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? KL_OK
                   : kl_err_set(KL_EIO, "cannot read directory %s: %s", dir, strerror(errno));
    while (rc == KL_OK && (de = readdir(d)) != NULL) {
        char *p;

        if (!snippet_name_ok(ld, de->d_name))
            continue;
        p = path_join(dir, de->d_name, "");
        if (!p)
            rc = kl_err_set(KL_ENOMEM, "config: out of memory");
        else if (is_file(p))
            rc = kl_strlist_push(out, p, strlen(p));
        kl_free(p);
    }
    closedir(d);
    if (rc == KL_OK && out->n > 1)
        qsort(out->items, out->n, sizeof(*out->items), cmp_str);
    return rc;
}

static kl_rc
snippets(loader *ld, const char *root)
{
    kl_strlist files = {0};
    char *dir = path_join(root, ld->conf, ".d");
    kl_rc rc = dir ? list_snippets(ld, dir, &files) : kl_err_set(KL_ENOMEM, "out of memory");

    for (size_t i = 0; rc == KL_OK && i < files.n; i++)
        rc = read_one(ld, files.items[i]);
    kl_strlist_free(&files);
    kl_free(dir);
    return rc;
}

static kl_rc
read_files(loader *ld, const kl_config_paths *paths)
{
    const char *etc = paths && paths->etc ? paths->etc : DEFAULT_ETC;
    const char *usr = paths && paths->usr_etc ? paths->usr_etc : DEFAULT_USR_ETC;
    bool done = false;
    kl_rc rc = env_file(ld, &done);

    if (rc != KL_OK || done)
        goto out;
    rc = base_file(ld, etc, usr);
    if (rc != KL_OK)
        goto out;
    /* usr_etc's snippets, then etc's: the administrator's win */
    rc = snippets(ld, usr);
    if (rc != KL_OK)
        goto out;
    rc = snippets(ld, etc);
out:
    return rc;
}

static void
note_unused(const char *section, const char *key, const kl_ini_value *v, void *payload)
{
    const loader *ld = payload;

    for (size_t i = 0; i < ld->spec->n_opts; i++)
        if (!strcmp(ld->spec->opts[i].section, section) && !strcmp(ld->spec->opts[i].key, key))
            return;
    LOG_DEBUG("%s: [%s] %s (%s:%u) is not used by this implementation; ignored", ld->conf, section,
              key, v->file, v->line);
}

kl_rc
kl_config_load(void *conf, const kl_config_spec *spec, const kl_config_paths *paths)
{
    loader ld = {.spec = spec};
    kl_rc rc;

    kl_buf_init(&ld.text, KL_CONFIG_MAX_FILE);
    kl_buf_init(&ld.read, 4096);
    snprintf(ld.conf, sizeof(ld.conf), "%s.conf", spec->component);
    rc = kl_ini_new(&ld.doc);
    if (rc != KL_OK)
        goto out;
    rc = read_files(&ld, paths);
    if (rc != KL_OK)
        goto out;
    if (ld.read.len && kl_buf_terminate(&ld.read) == KL_OK)
        LOG_INFO("%s: read %s", ld.conf, (const char *)ld.read.ptr);
    if (kl_log_enabled(KL_LOGMODULE, KL_LOG_DEBUG))
        kl_ini_walk(ld.doc, note_unused, &ld);
    rc = kl_config_apply(conf, spec, ld.doc);
out:
    if (rc != KL_OK)
        kl_config_free(conf, spec);
    kl_ini_free(ld.doc);
    kl_buf_free_secret(&ld.text);
    kl_buf_free(&ld.read);
    return rc;
}
