/* config: freeing, dumping and querying a loaded configuration, and the
 * path helpers the components share. */
#include "config/config.h"

#include "config/config_int.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool
kl_config_env_name(char *buf, size_t size, const char *component, const char *section,
                   const char *key)
{
    bool same = !section || strcmp(section, component) == 0;
    int n = snprintf(buf, size, "KEYLIME_%s%s%s_%s", component, same ? "" : "_",
                     same ? "" : section, key);

    if (n < 0 || (size_t)n >= size)
        return false;
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return true;
}

static void
free_str(char **p, bool secret)
{
    if (*p && secret)
        kl_wipe(*p, strlen(*p));
    kl_free(*p);
    *p = NULL;
}

void
kl_config_free(void *conf, const kl_config_spec *spec)
{
    kl_config_meta *meta = conf;

    if (!conf || !spec)
        return;
    for (size_t i = 0; i < spec->n_opts; i++) {
        const kl_opt *o = &spec->opts[i];
        void *field = (char *)conf + o->offset;

        if (o->type == KL_OPT_STR || o->type == KL_OPT_CHOICE)
            free_str(field, o->flags & KL_OPT_SECRET);
        else if (o->type == KL_OPT_LIST)
            kl_strlist_free(field);
    }
    for (size_t i = 0; meta->sources && i < spec->n_opts; i++)
        kl_free(meta->sources[i]);
    kl_free(meta->sources);
    meta->sources = NULL;
}

static void
dump_list(const kl_strlist *l, FILE *f)
{
    fputc('[', f);
    for (size_t i = 0; i < l->n; i++) {
        fputs(i ? ", '" : "'", f);
        for (const char *c = l->items[i]; *c; c++) {
            if (*c == '\'' || *c == '\\')
                fputc('\\', f);
            fputc(*c, f);
        }
        fputc('\'', f);
    }
    fputc(']', f);
}

/* Secrets show whether they are set, never what they are. */
static bool
dump_hidden(const void *field, const kl_opt *o, FILE *f)
{
    bool empty = false;

    if (!(o->flags & KL_OPT_SECRET))
        return false;
    if (o->type == KL_OPT_STR || o->type == KL_OPT_CHOICE)
        empty = !*(char *const *)field || !**(char *const *)field;
    else if (o->type == KL_OPT_LIST)
        empty = ((const kl_strlist *)field)->n == 0;
    fputs(empty ? (o->type == KL_OPT_LIST ? "[]" : "") : "<hidden>", f);
    return true;
}

static void
dump_value(const void *field, const kl_opt *o, FILE *f)
{
    if (dump_hidden(field, o, f))
        return;
    switch (o->type) {
    case KL_OPT_STR:
    case KL_OPT_CHOICE: fputs(*(char *const *)field ? *(char *const *)field : "", f); break;
    case KL_OPT_INT: fprintf(f, "%lld", *(const long long *)field); break;
    case KL_OPT_BOOL: fputs(*(const bool *)field ? "True" : "False", f); break;
    case KL_OPT_FLOAT: fprintf(f, "%g", *(const double *)field); break;
    case KL_OPT_LIST: dump_list(field, f); break;
    }
}

void
kl_config_dump(const void *conf, const kl_config_spec *spec, FILE *f)
{
    const kl_config_meta *meta = conf;

    fprintf(f, "# %s.conf\n", spec->component);
    for (size_t i = 0; i < spec->n_opts; i++) {
        const kl_opt *o = &spec->opts[i];

        fprintf(f, "%s.%s = ", o->section, o->key);
        dump_value((const char *)conf + o->offset, o, f);
        fprintf(f, "  # %s\n", meta->sources && meta->sources[i] ? meta->sources[i] : "not loaded");
    }
}

const char *
kl_config_source(const void *conf, const kl_config_spec *spec, const char *section, const char *key)
{
    const kl_config_meta *meta = conf;

    for (size_t i = 0; meta->sources && i < spec->n_opts; i++)
        if (!strcmp(spec->opts[i].section, section) && !strcmp(spec->opts[i].key, key))
            return meta->sources[i];
    return NULL;
}

kl_rc
kl_config_path(char **out, const char *value, const char *dir, const char *fallback)
{
    const char *name = value && value[0] && strcmp(value, "default") ? value : fallback;
    kl_buf b;
    kl_rc rc;

    *out = NULL;
    if (!name || !name[0])
        return kl_err_set(KL_EINVAL, "config: no file name and no default for a path option");
    kl_buf_init(&b, 8192);
    if (name[0] == '/' || !dir || !dir[0])
        rc = kl_buf_append_str(&b, name);
    else
        rc = kl_buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&b);
    if (rc != KL_OK) {
        kl_buf_free(&b);
        return kl_err_wrap(rc, "config: path %s/%s: ", dir ? dir : "", name);
    }
    *out = (char *)kl_buf_take(&b, NULL);
    return KL_OK;
}

const char *
kl_config_work_dir(void)
{
    const char *d = getenv("KEYLIME_DIR");

    return d && d[0] ? d : "/var/lib/keylime";
}
