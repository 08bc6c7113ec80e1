#!/usr/bin/python3
# parse-metrics.py: read metrics text on stdin with prometheus_client's own
# parsers (openmetrics or prometheus, as argv[1] says) and print each
# sample as one line, "NAME{k=v,...} VALUE" with labels sorted, then
# "family NAME TYPE [UNIT]" for each family. Exit 1, with the parser's
# complaint on stderr, when the text does not parse. For test_metrics.c.
import sys

def main():
    fmt = sys.argv[1] if len(sys.argv) > 1 else "openmetrics"
    text = sys.stdin.read()
    if fmt == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parsers raise ValueError and others
        print("parse error: %s" % e, file=sys.stderr)
        return 1
    for fam in families:
        unit = getattr(fam, "unit", "") or ""
        print("family %s %s%s" % (fam.name, fam.type, " " + unit if unit else ""))
        for s in fam.samples:
            labels = ",".join("%s=%s" % (k, s.labels[k]) for k in sorted(s.labels))
            print("%s{%s} %s" % (s.name, labels, repr(float(s.value))))
    return 0

sys.exit(main())
