#!/usr/bin/env bash
# hpcpipe viz: the selected graph as HTML (renders in headless Chromium,
# namespaces in colour and as collapsible lists), SVG and DOT, filters
# applied, bad formats refused.
. "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
P=$SCRATCH/p
new_project "$P"

hp 1 viz "$P/conf" --format dot
expect_rc 0 "viz --format dot"
[ "$(grep -c '^  subgraph "cluster_' "$OUT")" = 2 ] && ok "dot: a cluster per namespace" ||
  fail "dot: clusters: $(grep -c 'cluster_' "$OUT")"
for n in clean_readings temperature.scale temperature.summarize rainfall.scale rainfall.summarize; do
  grep -q "\"n:$n\" \[shape=box" "$OUT" || fail "dot: node $n missing"
done
# every input and output of the 5 nodes is one edge
edges=$(grep -c ' -> ' "$OUT")
[ "$edges" = 13 ] && ok "dot: 13 edges" || fail "dot: $edges edges, expected 13"

hp 1 viz "$P/conf" --format svg --tags reporting
expect_rc 0 "viz --format svg with a filter"
[ "$(grep -c '<g class="node">' "$OUT")" = 2 ] && ok "svg: the filter keeps 2 nodes" ||
  fail "svg: $(grep -c '<g class="node">' "$OUT") nodes"
$PY -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$OUT" && ok "svg parses as XML" || fail "svg is not XML"

hp 1 viz "$P/conf" --output "$SCRATCH/graph.html"
expect_rc 0 "viz --output"
grep -q '<details><summary>temperature</summary>' "$SCRATCH/graph.html" &&
  ok "html: collapsible namespace lists" || fail "html: no namespace list"
if [ -n "$CHROMIUM" ]; then
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1400,600 --screenshot="$SCRATCH/graph.png" "file://$SCRATCH/graph.html" >/dev/null 2>&1
  $PY - "$SCRATCH/graph.png" <<'PY' && ok "html renders in Chromium with coloured node boxes" || fail "html screenshot"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB"); px = im.load()
sat = sum(1 for y in range(im.size[1]) for x in range(im.size[0])
          if max(px[x, y]) - min(px[x, y]) > 80)
assert sat > 5000, sat   # four namespaced boxes of 180 x 40 px, and the legend
PY
else
  fail "chromium is missing (.ci/install-deps.sh installs it)"
fi

hp 1 viz "$P/conf" --format pdf
expect_rc 2 "viz --format pdf"
expect_err "--format must be html, svg or dot" "viz: bad format message"
hp 3 viz "$P/conf" --format dot
expect_rc 0 "viz under mpirun"
[ "$(grep -c " -> " "$OUT")" = 13 ] || fail "viz under mpirun: output differs"

# --output to a FIFO writes into it (a file does not replace it); a write
# that fails (a full disk: /dev/full) is an error, not 'wrote'
mkfifo "$SCRATCH/pipe"
timeout 60 cat "$SCRATCH/pipe" >"$SCRATCH/from_pipe" & reader=$!
hp 1 viz "$P/conf" --format dot --output "$SCRATCH/pipe"
expect_rc 0 "viz --output to a FIFO"
wait $reader
[ -p "$SCRATCH/pipe" ] && ok "the FIFO is still a FIFO" || fail "viz replaced the FIFO"
[ "$(grep -c " -> " "$SCRATCH/from_pipe")" = 13 ] && ok "the graph went through the FIFO" ||
  fail "the FIFO carried $(grep -c " -> " "$SCRATCH/from_pipe") edges"
# --output through a link (as /dev/stdout is) writes where it points,
# whether that file exists or not
for made in no yes; do
  rm -f "$SCRATCH/target.dot" "$SCRATCH/link.dot"
  [ "$made" = yes ] && echo old >"$SCRATCH/target.dot"
  ln -s "$SCRATCH/target.dot" "$SCRATCH/link.dot"
  hp 1 viz "$P/conf" --format dot --output "$SCRATCH/link.dot"
  expect_rc 0 "viz --output to a link (target there: $made)"
  [ -L "$SCRATCH/link.dot" ] && [ "$(grep -c " -> " "$SCRATCH/target.dot")" = 13 ] &&
    ok "the link stays, its target has the graph (target there: $made)" ||
    fail "viz --output through a link (target there: $made)"
done
RC=0; "$HPCPIPE" list "$P/conf" nodes >/dev/full 2>"$ERR" || RC=$?
expect_rc 1 "list to a full disk"
expect_err "cannot write the standard output: No space left on device" "list to a full disk: message"
finish
