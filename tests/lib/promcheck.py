#!/usr/bin/python3
"""promcheck.py FILE|- [--expect 'NAME{LABELS} VALUE' ...] [--dump]

A strict checker of the Prometheus text exposition format 0.0.4 (the rules
of https://prometheus.io/docs/instrumenting/exposition_formats/ and of
promtool's text parser), for tests: every line is a comment (# HELP /
# TYPE), blank, or a sample; metric and label names match their grammar;
label values use only the escapes \\\\, \\" and \\n; HELP and TYPE at most once
per family and before its samples; a family's samples are contiguous; no
sample (name + label set) twice; counters' names end in _total; values are
floats.  Exits 1 with the offending line on the first error.

--expect checks that a sample with exactly these labels has this value;
--dump prints every sample as JSON: [name, {labels}, value] per line.
"""
import json
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
VALUE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z|[+-]?Inf\Z|NaN\Z")


class Bad(Exception):
    pass


def parse_labels(text, lineno):
    """text starts after '{'; returns (labels, rest after '}')."""
    labels = {}
    i = 0
    while True:
        if text[i:i + 1] == "}":
            return labels, text[i + 1:]
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", text[i:])
        if not m:
            raise Bad(f"line {lineno}: bad label at: {text[i:]!r}")
        name = m.group(1)
        i += m.end()
        val = []
        while True:
            if i >= len(text):
                raise Bad(f"line {lineno}: unterminated label value")
            c = text[i]
            if c == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ("\\", '"', "n"):
                    raise Bad(f"line {lineno}: bad escape \\{esc}")
                val.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad(f"line {lineno}: newline in label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Bad(f"line {lineno}: label {name} twice")
        labels[name] = "".join(val)
        if text[i:i + 1] == ",":
            i += 1
        elif text[i:i + 1] != "}":
            raise Bad(f"line {lineno}: expected , or }} at: {text[i:]!r}")


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name


def check(text):
    if text and not text.endswith("\n"):
        raise Bad("the last line does not end with a newline")
    helps, types, seen, done, samples = set(), {}, set(), set(), []
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME.match(parts[2]):
                    raise Bad(f"line {lineno}: bad metric name in {line!r}")
                fam = parts[2]
                if fam in done:
                    raise Bad(f"line {lineno}: {parts[1]} for {fam} after its samples")
                if parts[1] == "HELP":
                    if fam in helps:
                        raise Bad(f"line {lineno}: second HELP for {fam}")
                    helps.add(fam)
                else:
                    if fam in types:
                        raise Bad(f"line {lineno}: second TYPE for {fam}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise Bad(f"line {lineno}: bad TYPE line {line!r}")
                    if parts[3] == "counter" and not fam.endswith("_total"):
                        raise Bad(f"line {lineno}: counter {fam} does not end in _total")
                    types[fam] = parts[3]
                if current is not None and current != fam:
                    done.add(current)
                current = fam
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        if not m:
            raise Bad(f"line {lineno}: not a sample: {line!r}")
        name, rest = m.group(1), line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest[1:], lineno)
        if not rest.startswith(" "):
            raise Bad(f"line {lineno}: no space before the value: {line!r}")
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2) or not VALUE.match(fields[0]):
            raise Bad(f"line {lineno}: bad value in {line!r}")
        if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
            raise Bad(f"line {lineno}: bad timestamp in {line!r}")
        fam = family_of(name, types)
        if fam in done:
            raise Bad(f"line {lineno}: samples of {fam} are not contiguous")
        if current is not None and current != fam:
            done.add(current)
        current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise Bad(f"line {lineno}: sample {name}{labels} twice")
        seen.add(key)
        samples.append((name, labels, float(fields[0])))
    return samples


def parse_expect(spec):
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)\Z", spec)
    if not m:
        raise SystemExit(f"promcheck: bad --expect {spec!r}")
    labels = {}
    if m.group(2):
        labels, rest = parse_labels(m.group(2)[1:], 0)
        if rest:
            raise SystemExit(f"promcheck: bad --expect {spec!r}")
    return m.group(1), labels, float(m.group(3))


def main(argv):
    args = argv[1:]
    if not args:
        raise SystemExit(__doc__)
    src, expects, dump = args[0], [], False
    i = 1
    while i < len(args):
        if args[i] == "--expect" and i + 1 < len(args):
            expects.append(parse_expect(args[i + 1]))
            i += 2
        elif args[i] == "--dump":
            dump = True
            i += 1
        else:
            raise SystemExit(f"promcheck: unknown argument {args[i]!r}")
    text = sys.stdin.read() if src == "-" else open(src, encoding="utf-8").read()
    try:
        samples = check(text)
    except Bad as e:
        print(f"promcheck: {e}", file=sys.stderr)
        return 1
    for name, labels, value in expects:
        got = [v for n, l, v in samples if n == name and l == labels]
        if got != [value]:
            print(f"promcheck: expected {name}{labels} = {value}, got {got}", file=sys.stderr)
            return 1
    if dump:
        for s in samples:
            print(json.dumps(s))
    print(f"promcheck: {len(samples)} samples OK", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
