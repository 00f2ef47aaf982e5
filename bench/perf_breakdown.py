#!/usr/bin/env python3
"""Where kl_ima_eval spends its time, per entry, from a perf recording.

Reads `perf script -F period,ip,sym,dso` output (recorded with
--call-graph dwarf, so inlined frames are listed) on stdin, keeps the
samples whose stack goes through ROOT (kl_ima_eval) and files each under the
first category, in the order of RULES, that one of its frames (leaf to
ROOT) matches. With a cpu-clock recording the sample periods add up to the
time spent; N, the entries evaluated in the recording, turns it into ns per
entry.

    perf_breakdown.py --entries N < perf-script.txt

bench/profile.sh runs all of it.
"""
import argparse
import collections
import re
import sys

ROOT = "kl_ima_eval"

# (category, predicate over the frame names from leaf to ROOT)
def has(*names):
    return lambda fr: any(f.startswith(n) for f in fr for n in names)


def leaf(*names):
    return lambda fr: any(fr[0].startswith(n) for n in names)


def both(a, b):
    return lambda fr: a(fr) and b(fr)


RULES = [
    ("kernel (page faults, timer interrupts)", leaf("[k]")),
    ("allocation (malloc/free, in EVP_DigestInit_ex2)",
     leaf("__GI___libc_malloc", "__GI___libc_free", "_int_free", "_int_malloc", "malloc",
          "free", "CRYPTO_zalloc", "CRYPTO_clear_free", "CRYPTO_free", "CRYPTO_malloc",
          "OPENSSL_cleanse", "tcache", "cfree", "__libc_calloc")),
    ("hash: sha1(template data), compression", both(has("SHA1_"), has("check_entry"))),
    ("hash: sha256(PCR || digest) extend, compression",
     both(has("SHA256_"), has("kl_ima_pcr_extend"))),
    ("hash: sha256(template data), compression", both(has("SHA256_"), has("check_entry"))),
    ("hash: EVP init/update/final overhead", has("kl_hasher_", "kl_ima_pcr_extend")),
    ("policy lookup: name compare (memcmp in arena)",
     both(has("kl_digest_map_get"), leaf("__memcmp", "name_eq"))),
    ("policy lookup: hash + probe (slots, entries)", has("kl_digest_map_get")),
    ("policy lookup: digest compare", has("kl_digest_list_contains")),
    ("policy lookup: other (check_listed, excludes)", has("check_listed", "excluded")),
    ("parse: hex decoding (fromhex)", has("fromhex", "kl_hex_digit", "is_space")),
    ("parse: template encoding (kl_ima_template_encode)", has("kl_ima_template_encode")),
    ("parse: pcr_text snprintf", has("snprintf", "__vsnprintf", "__vfprintf")),
    ("parse: template name lookup", has("kl_ima_template_from_name")),
    ("parse: line/field splitting (memchr)", has("split", "parse_digest")),
    ("parse: per-line setup (memset, scratch reserve)", has("kl_ima_ascii_next")),
    ("eval loop (quoted PCR memcmp, bookkeeping)", lambda fr: True),
]


def sample(block):
    """(period, frames from leaf to ROOT), or None when ROOT is not on the stack."""
    out, period = [], 0
    for line in block.strip().split("\n"):
        parts = line.strip().split(None, 1)
        if len(parts) == 1 and parts[0].isdigit():
            period = int(parts[0])
            continue
        if len(parts) < 2:
            continue
        sym = re.sub(r"\s*\(.*\)$", "", parts[1]).split("+0x")[0]
        out.append("[k]" + sym if "[kernel" in parts[1] else sym)
        if sym.startswith(ROOT):
            return period, out
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=float, required=True)
    args = ap.parse_args()
    counts = collections.Counter()
    nsamples = 0
    for block in sys.stdin.read().split("\n\n"):
        s = sample(block)
        if not s:
            continue
        nsamples += 1
        for name, pred in RULES:
            if pred(s[1]):
                counts[name] += s[0]
                break
    total = sum(counts.values())
    if not total:
        sys.exit("no samples under " + ROOT)
    ns = total / args.entries
    print(f"{nsamples} samples, {total / 1e9:.2f} s under {ROOT}; {ns:.0f} ns per entry\n")
    print("| Where (kl_ima_eval, per entry) | share | ns/entry |")
    print("|---|---:|---:|")
    groups = collections.Counter()
    for name, _ in RULES:
        if counts[name]:
            share = counts[name] / total
            groups[name.split(":")[0].split(" (")[0]] += share
            print(f"| {name} | {100 * share:.1f}% | {share * ns:.0f} |")
    print("\n| Group | share | ns/entry |")
    print("|---|---:|---:|")
    for g, share in groups.most_common():
        print(f"| {g} | {100 * share:.1f}% | {share * ns:.0f} |")


if __name__ == "__main__":
    main()
