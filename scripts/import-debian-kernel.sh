#!/usr/bin/env bash
# Opt-in real-kernel check of the module-tree importer (docs/import.md).
#
#   scripts/import-debian-kernel.sh [options] KMODSIM
#
# KMODSIM is the kmodsim binary (build/kmodsim); the script uses `kmodsim import`. It
#   1. downloads a Debian 12 kernel image package (apt-get download; apt-get update must have
#      run) and the matching linux-headers package (for Module.symvers), unpacks both with
#      dpkg -x, copies Module.symvers into the modules directory and runs `depmod -b`;
#   2. optionally recompresses every module (--compress xz|zstd|gzip) and runs depmod again;
#   3. imports the whole tree, timing it;
#   4. checks: the number of imported modules equals the line count of modules.dep; every
#      module's deps equal its modules.dep line (names normalised); every module's export
#      count equals its lines in Module.symvers; and for three modules, every feature equals
#      what readelf reports (the readelf commands and both values are printed);
#   5. optionally writes a workload (--workload OUT with --boot-list / --uevents).
# Exits non-zero on any mismatch. Needs: apt-get, dpkg, depmod (package kmod), readelf
# (binutils), xz/zstd/gzip for --compress, awk, sort, comm.
#
# Options:
#   --package NAME     kernel image package (default: newest linux-image-6.1.0-N-amd64-unsigned
#                      with an install candidate)
#   --workdir DIR      where to download and unpack (default: a new temp dir, removed at exit
#                      unless --keep)
#   --keep             keep the work dir
#   --compress METHOD  none (default: Debian 12 ships plain .ko), xz, zstd or gzip
#   --jobs N           importer threads (default: all cores)
#   --modules LIST     comma-separated modules for the readelf comparison
#                      (default: ext4,jbd2,snd_hda_codec)
#   --boot-list FILE, --uevents FILE, --workload OUT, --date TEXT, --name NAME
#                      write a workload from the same tree (paths in the output are relative to
#                      the work dir, so the file does not depend on where it was made)
set -euo pipefail

package=""
workdir=""
keep=0
compress=none
jobs=0
check_modules="ext4,jbd2,snd_hda_codec"
boot_list=""
uevents=""
workload=""
date_text=""
wl_name=""
kmodsim=""

die() { echo "import-debian-kernel: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    --package) package=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --compress) compress=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --modules) check_modules=$2; shift 2 ;;
    --boot-list) boot_list=$(realpath "$2"); shift 2 ;;
    --uevents) uevents=$(realpath "$2"); shift 2 ;;
    --workload) workload=$(realpath -m "$2"); shift 2 ;;
    --date) date_text=$2; shift 2 ;;
    --name) wl_name=$2; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) kmodsim=$(realpath "$1"); shift ;;
  esac
done
[[ -n $kmodsim && -x $kmodsim ]] || die "usage: $0 [options] PATH/TO/kmodsim"
case $compress in none|xz|zstd|gzip) ;; *) die "--compress: none, xz, zstd or gzip" ;; esac
for tool in apt-get dpkg depmod readelf awk; do
  command -v "$tool" >/dev/null || die "$tool not found (depmod: apt-get install kmod; readelf: binutils)"
done

if [[ -z $workdir ]]; then
  workdir=$(mktemp -d /tmp/kmodsim-debian-kernel.XXXXXX)
  ((keep)) || trap 'rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"
cd "$workdir"

# ---- 1. download and unpack --------------------------------------------------------------
if [[ -z $package ]]; then
  for p in $(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -rV); do
    # (not `apt-cache policy | grep -q`: with pipefail, grep's early exit fails the pipe)
    policy=$(apt-cache policy "$p")
    if [[ $policy == *"Candidate: "[0-9]* ]]; then package=$p; break; fi
  done
  [[ -n $package ]] || die "no linux-image-6.1.0-*-amd64-unsigned package found (run apt-get update)"
fi
version=${package#linux-image-}
version=${version%-unsigned}
pkg_version=$(apt-cache policy "$package" | awk '/Candidate:/ {print $2}')
echo "== package $package ($pkg_version), kernel $version, work dir $workdir"
if ! ls "${package}"_*.deb >/dev/null 2>&1; then
  echo "\$ apt-get download $package linux-headers-$version"
  apt-get download "$package" "linux-headers-$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
fi
ls "${package}"_*.deb >/dev/null 2>&1 || die "download of $package failed"
if [[ ! -d root/lib/modules/$version ]]; then
  echo "\$ dpkg -x ${package}_*.deb root"
  dpkg -x "${package}"_*.deb root
  if ls "linux-headers-${version}"_*.deb >/dev/null 2>&1; then
    dpkg -x "linux-headers-${version}"_*.deb headers
  fi
fi
moddir=root/lib/modules/$version
symvers=headers/usr/src/linux-headers-$version/Module.symvers
if [[ -f $symvers ]]; then
  cp "$symvers" "$moddir/Module.symvers"
else
  echo "warning: no Module.symvers (linux-headers-$version not downloaded): kernel_exports and the export check are skipped"
fi

if [[ $compress != none ]]; then
  echo "== compressing modules with $compress"
  case $compress in
    xz) ext=xz; cmd=(xz --check=crc32 --lzma2=dict=1MiB -q -f) ;;
    zstd) ext=zst; cmd=(zstd -q -f --rm -19) ;;
    gzip) ext=gz; cmd=(gzip -9 -n -f) ;;
  esac
  find "$moddir/kernel" -name '*.ko' -print0 | xargs -0 -r -P "$(nproc)" -n 64 "${cmd[@]}"
fi
echo "\$ depmod -b root $version"
depmod -b root "$version"

# ---- 2. import ---------------------------------------------------------------------------
tsv=$workdir/features.tsv
echo "== import of the whole tree"
start=$(date +%s.%N)
"$kmodsim" import --modules-dir "$moddir" --jobs "$jobs" --tsv "$tsv" --force >"$workdir/import.log" 2>&1 \
  || { cat "$workdir/import.log"; die "kmodsim import failed"; }
end=$(date +%s.%N)
grep '^imported' "$workdir/import.log"
echo "warnings: $(grep -c '^warning' "$workdir/import.log" || true)"
grep '^warning' "$workdir/import.log" | head -20 || true
wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
echo "import wall time: ${wall} s ($(nproc) cores, $compress modules, page cache warm after depmod)"

fail=0
mismatch() { echo "MISMATCH: $*"; fail=1; }

# ---- 3. whole-tree checks ----------------------------------------------------------------
dep_lines=$(grep -c . "$moddir/modules.dep")
imported=$(($(wc -l <"$tsv") - 1))
echo "modules: imported $imported, modules.dep lines $dep_lines"
((imported == dep_lines)) || mismatch "module count"

# deps: normalise modules.dep into "name<TAB>dep,dep" and compare with the TSV's columns 1,10.
norm='function norm(p) { sub(/.*\//, "", p); sub(/\.(xz|zst|gz)$/, "", p); sub(/\.ko$/, "", p); gsub(/-/, "_", p); return p }'
awk "$norm"' { name = norm(substr($1, 1, length($1) - 1)); d = "";
               for (i = 2; i <= NF; i++) d = d (i > 2 ? "," : "") norm($i); print name "\t" d }' \
  "$moddir/modules.dep" | sort >"$workdir/deps.expected"
awk -F'\t' 'NR > 1 { print $1 "\t" $10 }' "$tsv" | sort >"$workdir/deps.imported"
if cmp -s "$workdir/deps.expected" "$workdir/deps.imported"; then
  echo "deps: all $dep_lines modules equal modules.dep"
else
  mismatch "deps differ from modules.dep:"; diff "$workdir/deps.expected" "$workdir/deps.imported" | head -20
fi

# exports: per module, the lines of Module.symvers naming it.
if [[ -f $moddir/Module.symvers ]]; then
  awk -F'\t' '$3 != "vmlinux" { m = $3; sub(/.*\//, "", m); gsub(/-/, "_", m); n[m]++ }
              END { for (m in n) print m "\t" n[m] }' "$moddir/Module.symvers" | sort >"$workdir/exports.expected"
  awk -F'\t' 'NR > 1 && $8 > 0 { print $1 "\t" $8 }' "$tsv" | sort >"$workdir/exports.imported"
  if cmp -s "$workdir/exports.expected" "$workdir/exports.imported"; then
    echo "exports: all $(wc -l <"$workdir/exports.imported") exporting modules equal Module.symvers"
  else
    mismatch "exports differ from Module.symvers:"; diff "$workdir/exports.expected" "$workdir/exports.imported" | head -20
  fi
  echo "kernel_exports (vmlinux lines of Module.symvers): $(awk -F'\t' '$3 == "vmlinux"' "$moddir/Module.symvers" | wc -l)"
fi

# ---- 4. readelf comparison ---------------------------------------------------------------
echo "== readelf comparison"
IFS=, read -r -a picks <<<"$check_modules"
for m in "${picks[@]}"; do
  path=$(awk -v want="$m" "$norm"' { p = substr($1, 1, length($1) - 1); if (norm(p) == want) { print p; exit } }' "$moddir/modules.dep")
  [[ -n $path ]] || { mismatch "$m not in modules.dep"; continue; }
  elf=$workdir/$m.ko
  case $path in
    *.xz) xz -dc "$moddir/$path" >"$elf" ;;
    *.zst) zstd -qdc "$moddir/$path" >"$elf" ;;
    *.gz) gzip -dc "$moddir/$path" >"$elf" ;;
    *) cp "$moddir/$path" "$elf" ;;
  esac
  # (hex() instead of gawk's strtonum, so that mawk, Debian's default awk, works too)
  read -r r_alloc r_init r_percpu < <(readelf -S -W "$elf" | sed -n 's/^ *\[ *[0-9]*\] //p' | awk '
    function hex(s,   i, v) { v = 0; s = tolower(s)
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v }
    $1 != "NULL" { flags = (NF == 10) ? $7 : ""; size = hex($5)
      if ($1 == ".data..percpu" || $1 == ".data.percpu") { percpu += size }
      else if (flags ~ /A/ && $1 != ".modinfo" && $1 != "__versions") {
        alloc += size; if ($1 ~ /^\.init/) init += size } }
    END { printf "%d %d %d\n", alloc, init, percpu }')
  r_undef=$(readelf -s -W "$elf" | awk '$7 == "UND" && $8 != "" && $5 != "LOCAL"' | wc -l)
  r_exports=$(readelf -s -W "$elf" | awk '$8 ~ /^__ksymtab_/ && $8 != "__ksymtab_strings" && $7 != "UND"' | wc -l)
  r_relocs=$(readelf -r -W "$elf" | awk '/^Relocation section/ { for (i = 1; i <= NF; i++) if ($i == "contains") n += $(i + 1) } END { print n + 0 }')
  r_file=$(stat -c %s "$elf")
  IFS=$'\t' read -r _ i_alloc i_init i_file i_undef _ i_relocs i_exports i_percpu _ < <(awk -F'\t' -v want="$m" '$1 == want' "$tsv")
  echo "-- $m ($path)"
  echo "   alloc_bytes  : readelf -S -W $m.ko | sum of Size over flag A, minus .modinfo/__versions/.data..percpu"
  echo "   init_bytes   : same, sections named .init*"
  echo "   percpu_bytes : readelf -S -W $m.ko | Size of .data..percpu"
  echo "   undef_symbols: readelf -s -W $m.ko | Ndx UND, named, not LOCAL"
  echo "   relocations  : readelf -r -W $m.ko | sum of 'contains N entries'"
  echo "   exports      : readelf -s -W $m.ko | symbols named __ksymtab_* (not __ksymtab_strings)"
  echo "   file_bytes   : stat -c %s $m.ko (uncompressed)"
  for pair in "alloc_bytes $r_alloc $i_alloc" "init_bytes $r_init $i_init" "percpu_bytes $r_percpu $i_percpu" \
              "undef_symbols $r_undef $i_undef" "relocations $r_relocs $i_relocs" "exports $r_exports $i_exports" \
              "file_bytes $r_file $i_file"; do
    read -r what want got <<<"$pair"
    if [[ $want == "$got" ]]; then
      printf '   %-13s readelf %-8s import %-8s ok\n' "$what" "$want" "$got"
    else
      printf '   %-13s readelf %-8s import %-8s MISMATCH\n' "$what" "$want" "$got"; fail=1
    fi
  done
done

# ---- 5. optional workload ----------------------------------------------------------------
if [[ -n $workload ]]; then
  echo "== writing workload $workload"
  args=(--modules-dir "lib/modules/$version" --jobs "$jobs" -o "$workload" --force)
  # The lists are copied next to the tree so that the paths written into the workload are
  # the stable "sources/NAME" (configs/workloads/sources/ in the repository).
  mkdir -p root/sources
  if [[ -n $boot_list ]]; then
    cp "$boot_list" root/sources/; args+=(--boot-list "sources/$(basename "$boot_list")")
  fi
  if [[ -n $uevents ]]; then
    cp "$uevents" root/sources/; args+=(--uevents "sources/$(basename "$uevents")")
  fi
  [[ -n $date_text ]] && args+=(--date "$date_text")
  [[ -n $wl_name ]] && args+=(--name "$wl_name")
  args+=(--provenance "Debian 12 package $package $pkg_version (lib/modules/$version), depmod -b; imported by kmodsim import")
  (cd root && "$kmodsim" import "${args[@]}" 2>&1 | grep '^imported')
  if [[ -n $boot_list ]] && head -1 "$boot_list" | grep -q '^#'; then
    # Put the boot list's own comment header (how it was chosen) on top of the workload.
    { echo "# From the boot list sources/$(basename "$boot_list"):"
      awk '!/^#/ { exit } { print }' "$boot_list"
      echo "#"
      cat "$workload"; } >"$workload.tmp"
    mv "$workload.tmp" "$workload"
  fi
fi

if ((fail)); then
  echo "RESULT: MISMATCH"
  exit 1
fi
echo "RESULT: all checks passed"
