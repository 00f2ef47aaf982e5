#!/bin/sh
# checksrc: mechanical hygiene checks on the C sources (curl's checksrc idea).
# Bans unbounded string calls, raw allocation outside util/kl_alloc.c and SQL
# built with printf. Prints offending lines and exits 1 if there are any.
cd "$(dirname "$0")/.." || exit 2
status=0
files=$(find lib cmd tests fuzz bench -name '*.[ch]' 2>/dev/null)
bad=$(grep -nE '(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' $files)
if [ -n "$bad" ]; then
    echo "checksrc: banned calls (use snprintf, kl_buf, strtol...):"
    echo "$bad"
    status=1
fi
bad=$(grep -nE '(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free)[[:space:]]*\(' $(echo "$files" | grep -v 'lib/util/kl_alloc.c'))
if [ -n "$bad" ]; then
    echo "checksrc: raw allocation (use kl_malloc/kl_calloc/kl_realloc/kl_free):"
    echo "$bad"
    status=1
fi
bad=$(grep -nE 'printf[[:space:]]*\(.*(SELECT|INSERT|UPDATE|DELETE) ' $files)
if [ -n "$bad" ]; then
    echo "checksrc: SQL built with printf (use bound parameters):"
    echo "$bad"
    status=1
fi
[ $status -eq 0 ] && echo "checksrc: ok"
exit $status
