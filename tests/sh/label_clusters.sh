#!/usr/bin/env bash
# label_clusters.sh - cluster pages and page claims in the real labeler
# (tmux, text mode) on 60 real ring galaxies with their representations:
#   - zoosh label --clusters opens the largest cluster's page, its tiles
#     nearest the centre first; marked tiles and w save one answer per tile
#     (yes for the marked) and show the next cluster; t leaves a cluster for
#     later; u brings the saved page back, marked;
#   - two volunteers (two Unix users) on one workspace at once get pages
#     that share no galaxy, queue pages and cluster pages alike (before,
#     a page claimed only its first galaxy: both were shown the same tiles);
#   - a rating task (interest): a digit rates the marked tiles, else every
#     tile not rated yet; w saves one rating per rated tile;
#   - --clusters on a workspace without representations says so, exit 1.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK="zt-clusters-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$T" "$Z"
wait_for() { tm_wait "$1" "$2" "${3:-10}" || { tm capture-pane -p -t "$1" > "$T/fail.txt"; cat "$T/fail.txt" >&2; return 1; }; }
page_of() { tm capture-pane -p -t "$1" | grep -o 'page of [0-9]*' | head -1 | cut -d' ' -f3; }
# "gid answer" of the tree records in the export
tree_answers() { "$Z" export "$1" --format answers | awk -F, '$5=="tree"{print $6, $8}'; }

head -61 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > c60.csv
check "a ring workspace of 60 real galaxies" "$Z" init ws0 --schema ring
check "imported" "$Z" import ws0 c60.csv --threads 2
check "no representations: --clusters refuses" bash -c "! '$Z' label ws0 --task ring --clusters </dev/null >out.txt 2>&1"
expect "saying what to run" grep -q "clusters: ws0 has no representations to cluster (zoosh embed ws0)" out.txt
check "embedded (the representations the clusters group)" "$Z" embed ws0 --threads 2 --quiet
chmod -R a+rwX ws0
cp -a ws0 ws && cp -a ws0 ws2 && cp -a ws0 ws3 && cp -a ws0 wsi

# ---- cluster pages, one volunteer
LANG=C.UTF-8 tm new-session -d -s z -x 100 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label ws --task ring --retrain 0 --graphics none --clusters"
expect "--clusters opens the largest cluster's page" wait_for z "cluster 1 of 5, the largest (" 10
n1=$(page_of z)
tm capture-pane -p -t z > c1.txt
grep -o '\] d [0-9.e+-]*' c1.txt | awk '{print $3}' > d1.txt
expect "every tile shows its distance to the centre ($(wc -l < d1.txt) of $n1)" test "$(wc -l < d1.txt)" -eq "$n1"
expect "nearest the centre first" bash -c "sort -g d1.txt | cmp -s - d1.txt"
expect "the keys say how to move on" grep -q "w save page  t next cluster  u undo" c1.txt
tm send-keys -t z 1 3
expect "two tiles marked" wait_for z "page of $n1, 2 marked Ring" 5
tm send-keys -t z w
expect "w saves the page ($n1 answers)" wait_for z "page saved: $n1 answers" 5
expect "and shows the next cluster: the most unusual" wait_for z "cluster 2 of 5, unusual: its centre" 5
n2=$(page_of z)
tree_answers ws > got1.txt
expect "$n1 answers in the store, yes for the 2 marked" \
    bash -c "test \$(wc -l < got1.txt) -eq $n1 && test \$(grep -c ' yes$' got1.txt) -eq 2"
tm send-keys -t z t
expect "t leaves this cluster for later: cluster 3" wait_for z "cluster 3 of 5, the next largest" 5
tm send-keys -t z u
expect "u retracts the saved page" wait_for z "page of $n1 answers retracted" 5
expect "and brings cluster 1's page back, marked as saved" wait_for z "cluster 1 of 5, the largest ($n1 of its" 5
expect "... with its marks" wait_for z "page of $n1, 2 marked Ring" 5
tm send-keys -t z w
expect "saved again: cluster 2 next" wait_for z "cluster 2 of 5" 5
tm send-keys -t z w
expect "cluster 2's page saved ($n2 answers)" wait_for z "page saved: $n2 answers" 5
tm send-keys -t z q
for i in $(seq 1 40); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done
check "labels export" "$Z" export ws --format labels --task ring -o labels.csv
n=$(tail -n +2 labels.csv | wc -l)
expect "$((n1 + n2)) labels count (cluster 1 and 2; got $n)" test "$n" -eq $((n1 + n2))
expect "the log says how long the clustering took" grep -q "clusters: made in" label.log

# ---- a rating task: a digit rates the whole page (or the marked tiles)
LANG=C.UTF-8 tm new-session -d -s r -x 100 -y 30 \
    "cd '$T' && exec '$Z' label wsi --task interest --retrain 0 --graphics none --clusters"
expect "interest: --clusters opens a page to rate" wait_for r "cluster 1 of 5, the largest (" 10
nr=$(page_of r)
tm send-keys -t r Space 5
expect "Space marks tile 1 and 5 rates it alone" wait_for r "page of $nr, 1 rated, 0 marked" 5
tm send-keys -t r 1
expect "1 then rates every tile not rated yet" wait_for r "page of $nr, $nr rated, 0 marked" 5
tm send-keys -t r w
expect "w saves the page's $nr ratings" wait_for r "page saved: $nr answers" 5
tm send-keys -t r q
for i in $(seq 1 40); do tm has-session -t r 2>/dev/null || break; sleep 0.1; done
"$Z" export wsi --format answers | awk -F, '$5=="rating"{print $9}' | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ' > rated.txt
expect "the store holds one 5 and $((nr - 1)) ones ($(cat rated.txt))" grep -qx "1:$((nr - 1)) 5:1 " rated.txt

# ---- two volunteers: their pages never share a galaxy
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    start() {   # start SESSION UID ARGS...: the labeler as uid UID
        local s=$1 u=$2; shift 2
        tm new-session -d -s "$s" -x 100 -y 30 \
            "cd '$T' && setpriv --reuid=$u --regid=$u --clear-groups env HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 '$Z' label $*"
    }
    for mode in grid clusters; do
        w=ws2 a=a1 b=b1
        [ $mode = clusters ] && w=ws3 a=a2 b=b2
        start $a 20001 $w --task ring --retrain 0 --graphics none --$mode
        wait_for $a "page of" 10
        start $b 20002 $w --task ring --retrain 0 --graphics none --$mode
        wait_for $b "page of" 10
        na=$(page_of $a) nb=$(page_of $b)
        tm send-keys -t $a w
        wait_for $a "page saved: $na answers" 5
        tm send-keys -t $b w
        wait_for $b "page saved: $nb answers" 5
        tm send-keys -t $a q; tm send-keys -t $b q
        for i in $(seq 1 40); do tm has-session -t $a 2>/dev/null || tm has-session -t $b 2>/dev/null || break; sleep 0.1; done
        "$Z" export $w --format answers | awk -F, '$5=="tree"{print $6}' | sort > both.txt
        expect "--$mode: two labelers at once saved a page each (${na:-none} + ${nb:-none} answers, got $(wc -l < both.txt))" \
            test -n "$na" -a -n "$nb" -a "$(wc -l < both.txt)" -eq $((na + nb))
        expect "--$mode: no galaxy was on both pages ($(uniq -d both.txt | wc -l) were)" test -z "$(uniq -d both.txt)"
    done
    check "the workspace checks clean" "$Z" check ws3
else
    skip "two labelers need root and setpriv"
fi
