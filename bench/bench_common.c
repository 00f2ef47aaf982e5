#include "bench_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "util/kl_alloc.h"

void
bench_rng_seed(bench_rng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t
bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t
bench_rng_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((bench_rng_next(r) >> 32) * n) >> 32);
}

void
bench_rng_bytes(bench_rng *r, uint8_t *out, size_t n)
{
    while (n) {
        uint64_t v = bench_rng_next(r);
        size_t k = n < 8 ? n : 8;

        memcpy(out, &v, k);
        out += k;
        n -= k;
    }
}

/* Letters and inner hyphens only, so that "<word><number>" splits one way
 * and every file number gives a distinct path. */
static const char *const words[] = {
    "foo",   "ssl",        "crypto",   "gnutls",   "xml",      "glib",     "gio",
    "pam",   "selinux",    "dbus",     "systemd",  "udev",     "acl",      "attr",
    "lzma",  "zstd",       "pcre",     "ffi",      "gmp",      "nettle",   "hogweed",
    "idn",   "unistring",  "krb",      "gssapi",   "ldap",     "sasl",     "curl",
    "ssh",   "z",          "cap",      "seccomp",  "mount",    "blkid",    "uuid",
    "fdisk", "smartcols",  "audit",    "apparmor", "kmod",     "elf",      "dw",
    "stdc",  "gcc-s",      "readline", "ncursesw", "tinfo",    "sqlite",   "expat",
    "yaml",  "json-c",     "jansson",  "tss-esys", "tss-mu",   "python",   "perl",
    "gtk",   "gdk-pixbuf", "pango",    "cairo",    "harfbuzz", "freetype", "fontconfig",
    "png",   "jpeg",       "tiff",     "webp",     "keyutils", "nss",      "p-kit",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const drivers[] = {
    "net/ethernet/intel/ice",
    "gpu/drm/amd/amdgpu",
    "scsi",
    "usb/host",
    "block",
    "md",
    "nvme/host",
    "input/misc",
    "hid",
    "char/tpm",
    "crypto/ccp",
    "virtio",
    "acpi",
    "net/wireless/intel/iwlwifi",
    "i2c/busses",
    "platform/x86",
};
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static const char *const pydirs[] = {
    "urllib3", "requests",   "cryptography/hazmat/primitives",
    "keylime", "setuptools", "pip/_internal/utils",
    "yaml",    "jinja2",     "markupsafe",
    "idna",    "certifi",    "gi/overrides",
};
#define NPYDIRS (sizeof(pydirs) / sizeof(pydirs[0]))

static const char *
word(bench_rng *r)
{
    return words[bench_rng_below(r, NWORDS)];
}

kl_rc
bench_path(kl_buf *out, bench_rng *rng, size_t i)
{
    uint32_t shape = bench_rng_below(rng, 100);
    const char *w = word(rng);

    /* weights roughly as in a server's measurement list */
    if (shape < 35)
        return kl_buf_printf(out, "/usr/lib/x86_64-linux-gnu/lib%s%zu.so.%u", w, i,
                             bench_rng_below(rng, 4));
    if (shape < 45)
        return kl_buf_printf(out, "/usr/lib/x86_64-linux-gnu/%s/plugins/lib%s%zu.so", w, word(rng),
                             i);
    if (shape < 60)
        return kl_buf_printf(out, "/usr/lib/python3/dist-packages/%s/%s%zu.py",
                             pydirs[bench_rng_below(rng, NPYDIRS)], w, i);
    if (shape < 70)
        return kl_buf_printf(out, "/usr/lib/modules/6.1.0-18-amd64/kernel/drivers/%s/%s%zu.ko",
                             drivers[bench_rng_below(rng, NDRIVERS)], w, i);
    if (shape < 80)
        return kl_buf_printf(out, "/usr/bin/%s%zu", w, i);
    if (shape < 85)
        return kl_buf_printf(out, "/usr/lib/systemd/system/%s%zu.service", w, i);
    if (shape < 90)
        return kl_buf_printf(out, "/usr/share/perl5/%s/%s%zu.pm", w, word(rng), i);
    if (shape < 95)
        return kl_buf_printf(out, "/etc/%s/%s%zu.conf", w, word(rng), i);
    return kl_buf_printf(out, "/usr/libexec/%s/%s-helper%zu", w, word(rng), i);
}

size_t *
bench_shuffled(size_t n, uint64_t seed)
{
    size_t *v = kl_calloc(n ? n : 1, sizeof(*v));
    bench_rng r;

    if (!v)
        return NULL;
    bench_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(bench_rng_next(&r) % i), t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
    return v;
}

double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double total_cpu, total_wall;

void
bench_watch_start(bench_watch *w)
{
    w->wall = bench_now();
    w->cpu = thread_cpu();
}

double
bench_watch_stop(const bench_watch *w)
{
    double cpu = thread_cpu() - w->cpu, wall = bench_now() - w->wall;

    total_cpu += cpu;
    total_wall += wall;
    return cpu;
}

double
bench_oncpu_share(void)
{
    double share = total_wall > 0 ? total_cpu / total_wall : 1;

    total_cpu = total_wall = 0;
    return share;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double
bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A "Name:   123 kB" line of /proc/self/status, in bytes; 0 if absent. */
static size_t
status_kb(const char *name)
{
    char line[256];
    size_t len = strlen(name), v = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            v = (size_t)strtoull(line + len + 1, NULL, 10) * 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

size_t
bench_rss(void)
{
    return status_kb("VmRSS");
}

size_t
bench_rss_peak(void)
{
    return status_kb("VmHWM");
}

bool
bench_peak_reset(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0)
        return false;
    ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

void
bench_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

const char *
bench_si(char *buf, size_t len, double v)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2f G", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2f M", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1f k", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

const char *
bench_grouped(char *buf, size_t len, double v)
{
    char digits[32];
    size_t n, o = 0;

    snprintf(digits, sizeof(digits), "%.0f", v);
    n = strlen(digits);
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

long
bench_arg_long(const char *arg, const char *name)
{
    size_t n = strlen(name);
    char *end;
    long v;

    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return -1;
    v = strtol(arg + n + 1, &end, 10);
    return *end || v < 0 ? -1 : v;
}
