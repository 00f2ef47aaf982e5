/* tenant_usage: the usage line and the help, laid out as Python 3.11's
 * argparse.HelpFormatter lays them out (width from $COLUMNS or the
 * terminal, less 2; help column 24), so that the usage text of an error
 * reads as upstream's. The option descriptions are our own. */
#include "tenant.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PROG "keylime_tenant"
#define HELP_POSITION 24

int
tenant_usage_width(void)
{
    const char *cols = getenv("COLUMNS");
    struct winsize ws;
    long w = 0;

    if (cols && *cols) {
        char *end;

        w = strtol(cols, &end, 10);
        if (*end || w <= 0)
            w = 0;
    }
    if (w == 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        w = ws.ws_col;
    if (w == 0)
        w = 80;
    return (int)(w - 2);
}

/* "[-c COMMAND]" */
static void
usage_part(char *out, size_t n, const tenant_opt *o)
{
    if (o->metavar)
        snprintf(out, n, "[%s %s]", o->strings[0], o->metavar);
    else
        snprintf(out, n, "[%s]", o->strings[0]);
}

/* argparse's get_lines: greedy wrapping of the parts, each line but the
 * first indented to the column after the program name. */
static void
print_wrapped(FILE *f, int width)
{
    const char *prefix = "usage: ";
    size_t indent = strlen(prefix) + strlen(PROG) + 1;
    size_t line_len = strlen(prefix) - 1 + 1 + strlen(PROG);
    char part[256];

    fprintf(f, "%s%s", prefix, PROG);
    for (size_t i = 0; i < tenant_n_opts; i++) {
        usage_part(part, sizeof(part), &tenant_opts[i]);
        if ((long)(line_len + 1 + strlen(part)) > width) {
            fprintf(f, "\n%*s%s", (int)indent, "", part);
            line_len = indent - 1 + strlen(part) + 1;
        } else {
            fprintf(f, " %s", part);
            line_len += strlen(part) + 1;
        }
    }
    fputc('\n', f);
}

void
tenant_usage_print(FILE *f)
{
    int width = tenant_usage_width();
    size_t total = strlen("usage: " PROG);
    char part[256];

    for (size_t i = 0; i < tenant_n_opts; i++) {
        usage_part(part, sizeof(part), &tenant_opts[i]);
        total += 1 + strlen(part);
    }
    if ((long)total <= width || (double)strlen("usage: " PROG) > 0.75 * width) {
        fprintf(f, "usage: " PROG);
        for (size_t i = 0; i < tenant_n_opts; i++) {
            usage_part(part, sizeof(part), &tenant_opts[i]);
            fprintf(f, " %s", part);
        }
        fputc('\n', f);
        return;
    }
    print_wrapped(f, width);
}

/* textwrap.wrap of text to width, each line after the first indented. */
static void
print_text(FILE *f, const char *text, int width, int first_indent, int indent)
{
    const char *p = text;
    int col = 0;

    fprintf(f, "%*s", first_indent, "");
    while (*p) {
        size_t w = strcspn(p, " ");

        if (col > 0 && col + 1 + (int)w > width) {
            fprintf(f, "\n%*s", indent, "");
            col = 0;
        }
        fprintf(f, "%s%.*s", col > 0 ? " " : "", (int)w, p);
        col += (col > 0) + (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void
print_option(FILE *f, const tenant_opt *o, int width)
{
    char inv[320];
    size_t used = 0;
    int help_width = width - HELP_POSITION > 11 ? width - HELP_POSITION : 11;

    for (const char *const *s = o->strings; *s && used < sizeof(inv); s++) {
        used += (size_t)snprintf(inv + used, sizeof(inv) - used, "%s%s%s%s",
                                 s == o->strings ? "" : ", ", *s, o->metavar ? " " : "",
                                 o->metavar ? o->metavar : "");
    }
    if ((int)strlen(inv) <= HELP_POSITION - 4) {
        fprintf(f, "  %-*s  ", HELP_POSITION - 4, inv);
        print_text(f, o->help, help_width, 0, HELP_POSITION);
    } else {
        fprintf(f, "  %s\n", inv);
        print_text(f, o->help, help_width, HELP_POSITION, HELP_POSITION);
    }
}

void
tenant_help_print(FILE *f)
{
    int width = tenant_usage_width();

    tenant_usage_print(f);
    fprintf(f, "\noptions:\n");
    for (size_t i = 0; i < tenant_n_opts; i++)
        print_option(f, &tenant_opts[i], width);
    fputc('\n', f);
    print_text(f,
               "Settings come from tenant.conf (/etc/keylime/tenant.conf, "
               "/usr/etc/keylime/tenant.conf and their tenant.conf.d/ snippets, or the file "
               "named by KEYLIME_TENANT_CONFIG) and KEYLIME_TENANT_<OPTION> variables; the CA "
               "for --cert from ca.conf. This tenant does not download anything: the --*-url "
               "options are refused.",
               width, 0, 0);
}
