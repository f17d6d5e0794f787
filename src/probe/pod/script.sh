set -f
t="$1"; shift
tmp="${TMPDIR:-/tmp}/dexcheck.$$"
# A `post` probe (a token request) takes its URL and credentials from stdin, never from argv,
# once the other probes are under way: a `U ` line is the URL, `C ` lines curl config (data,
# user, header), a `B ` line the form body for wget (secret included). No `U ` line: not sent.
input=""
for v in HTTP_PROXY http_proxy HTTPS_PROXY https_proxy NO_PROXY no_proxy; do
  eval "val=\${$v-}"
  if [ -n "$val" ]; then printf 'E\t%s\t%s\n' "$v" "$val" | tr -d '\r'; fi
done
# The text work is done with the shell's own expansions where it can: every command started
# costs a process, and a pod under a CPU limit pays for each.
nl='
'
if [ -r /etc/resolv.conf ]; then
  search=""; ns=""
  while read -r k v; do
    case "$k" in
      search) [ -n "$search" ] || search=$v;;
      nameserver) [ -n "$ns" ] || ns=$v;;
    esac
  done </etc/resolv.conf
  printf 'S\t%s\t%s\n' "$search" "$ns"
fi
if command -v curl >/dev/null 2>&1; then tool=curl
elif command -v wget >/dev/null 2>&1; then tool=wget
else printf 'N\tno curl or wget in this container\n'; exit 0; fi
# GNU wget is silent about errors under -q and retries timeouts: -nv -t 1 there.
wq=-q; flavour=""
if [ "$tool" = wget ]; then
  case "$(wget --version 2>/dev/null)" in *"GNU Wget"*) wq="-nv -t 1"; flavour=gnu;; *) flavour=busybox;; esac
fi
printf 'T\t%s\t%s\n' "$tool" "$flavour"
printf 'D\t%s\n' "$(date +%s 2>/dev/null)"
# A command under the script's own bound of $t seconds, for a client whose own timeout option
# cannot be used: it prints its pid, then its exit code; a reader that waits too long kills it.
bounded() {
  f="$1"; shift
  { sh -c 'echo "$$"; exec "$@"' bounded "$@" 2>>"$f.err"; echo "$?"; } | {
    read -r p
    if read -t "$t" r; then exit "$r"; fi
    kill "$p" 2>/dev/null
    printf 'wget: timed out after %ss (stopped by dexcheck)\n' "$t" >>"$f.err"
    exit 124
  }
}
# `clip VAR N`: VAR cut to its first N characters.
clip() {
  eval "c=\$$1"
  [ "${#c}" -gt "$2" ] || return 0
  q=""; j=0
  while [ "$j" -lt "$2" ]; do q="$q?"; j=$((j+1)); done
  eval "$1=\${c%\"\${c#\$q}\"}"
}
one() {
  i="$1"; mode="$2"; url="$3"; f="$tmp.$i"
  # `MODE,id`: print the answer's identity too (a key set's key ids, a discovery document's
  # endpoints and digest), for comparing replicas; asked for only when there are several.
  id=""; case "$mode" in *,id) id=1; mode=${mode%,id};; esac
  # `file`: is the path readable here (a connector's CA or key file)? Never read, never shown.
  if [ "$mode" = file ]; then
    if [ -r "$url" ] && [ -f "$url" ]; then rc=0; e=""; elif [ -e "$url" ]; then rc=1; e="permission denied"; else rc=1; e="no such file or directory"; fi
    printf 'R\t%s\t%s\t\t\t\t\t\t\t%s\t\t\t\n' "$i" "$rc" "$e" >"$f.line"
    return 0
  fi
  # `cafile:PATH`: verify TLS with that CA file only, as Dex's LDAP connector does with rootCA.
  cafile=""; case "$mode" in cafile:*) cafile=${mode#cafile:}; mode=verify;; rootca) cafile="$tmp.ca"; mode=verify;; esac
  # The host: after the scheme, before the path, after any user info, without the port.
  host=${url#*://}; host=${host%%[/?#]*}; host=${host##*@}
  case "$host" in
    \[*) host=${host#\[}; host=${host%%]*};;
    *:*) host=${host%:*};;
  esac
  addr=""
  if command -v getent >/dev/null 2>&1; then addr=$(getent hosts "$host" 2>/dev/null); addr=${addr%%[[:space:]]*}; fi
  code=""; secs=""; ctype=""
  if [ "$tool" = curl ] && [ "$mode" = post ]; then
    # Never follows a redirect: the credentials go to this URL only.
    out=$(printf '%s\n' "$input" | sed -n 's/^C //p' | curl -sS --no-insecure -K - --max-filesize 1048576 --connect-timeout "$t" --max-time "$t" -o "$f.body" -w '%{http_code} %{time_total} %{content_type}' --url "$url" 2>"$f.err")
    rc=$?
    code=${out%% *}; rest=${out#* }; secs=${rest%% *}; ctype=${rest#* }
    [ "$ctype" = "$rest" ] && ctype=""
  elif [ "$tool" = curl ]; then
    if [ "$mode" = insecure ]; then k=--insecure; else k=--no-insecure; fi
    out=$(curl -sS "$k" ${cafile:+--cacert} ${cafile:+"$cafile"} -L --max-redirs 5 --max-filesize 1048576 --connect-timeout "$t" --max-time "$t" -o "$f.body" -w '%{http_code} %{time_total} %{content_type}' --url "$url" 2>"$f.err")
    rc=$?
    code=${out%% *}; rest=${out#* }; secs=${rest%% *}; ctype=${rest#* }
    [ "$ctype" = "$rest" ] && ctype=""
  elif [ "$mode" = post ] && [ -z "$(printf '%s\n' "$input" | sed -n 's/^B //p')" ]; then
    rc=254; printf 'wget cannot send Basic credentials without putting them on its command line\n' >"$f.err"
  else
    if [ "$mode" = insecure ]; then k=--no-check-certificate; else k=--header=Accept:*/*; fi
    [ -n "$cafile" ] && [ "$flavour" = gnu ] && k="--ca-certificate=$cafile"
    if [ "$mode" = post ]; then
      # The form body (secret included) in a file only this user can read, removed at once.
      (umask 077; printf '%s\n' "$input" | sed -n 's/^B //p' | tr -d '\n' >"$f.post")
      k="--post-file=$f.post"
      [ "$flavour" = gnu ] && k="$k --content-on-error"
    fi
    wget $wq -O "$f.body" -T "$t" $k -- "$url" 2>"$f.err"; rc=$?
    if [ "$rc" -gt 128 ]; then
      # The client crashed (Debian's busybox wget dies of SIGSEGV on -T): say so, then probe
      # again without -T under the script's own bound.
      sig=$((rc-128))
      printf 'W\t%s\t%s\t%s\n' "$i" "$sig" "$(kill -l "$sig" 2>/dev/null)" >"$f.warn"
      : >"$f.err"
      bounded "$f" wget $wq -O "$f.body" $k -- "$url"; rc=$?
    fi
    rm -f "$f.post"
    [ "$rc" = 0 ] && code=200
  fi
  issuer=$(sed -n 's/.*"issuer"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$f.body" 2>/dev/null); issuer=${issuer%%"$nl"*}
  size=""
  # A key set's key ids (Dex's jwks_uri is issuer/keys); a discovery document's endpoints (one
  # field per line first, so a one-line document reads the same) and digest.
  kids=""; doc=""
  if [ -n "$id" ] && [ -s "$f.body" ]; then
    case "$url" in
      */keys) kids=$(tr ',{' '\n\n' <"$f.body" | sed -n 's/.*"kid"[[:space:]]*:[[:space:]]*"\([^"]\{1,100\}\)".*/\1/p' | tr '\n' ' ' | sed 's/^\(.\{300\}\).*$/\1/');;
      */.well-known/openid-configuration)
        q='[[:space:]]*:[[:space:]]*"\([^" ]\{1,300\}\)".*/\1=\2/p'
        doc=$(tr ',{}' '\n\n\n' <"$f.body" | sed -n -e "s/^[[:space:]]*\"\(authorization_endpoint\)\"$q" -e "s/^[[:space:]]*\"\(token_endpoint\)\"$q" -e "s/^[[:space:]]*\"\(jwks_uri\)\"$q" -e "s/^[[:space:]]*\"\(userinfo_endpoint\)\"$q" | tr '\n' ' ' | sed 's/^\(.\{1300\}\).*$/\1/')
        for h in sha256sum md5sum cksum; do
          if command -v "$h" >/dev/null 2>&1; then sum=$("$h" <"$f.body" 2>/dev/null); doc="$doc digest=${h%sum}:${sum%%[[:space:]]*}"; break; fi
        done;;
    esac
  fi
  max=160; [ "$mode" = post ] && max=600
  body=""; [ -s "$f.body" ] && body=$(tr '\t\r\n' '   ' <"$f.body" 2>/dev/null); clip body "$max"
  err=""; [ -s "$f.err" ] && err=$(tr '\t\r\n' '   ' <"$f.err" 2>/dev/null); clip err 300
  printf 'R\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$rc" "$code" "$secs" "$addr" "$issuer" "$size" "$ctype" "$err" "$body" "$kids" "$doc" >"$f.line"
  if [ -f "$f.warn" ]; then cat "$f.warn" >>"$f.line"; fi
  # A token endpoint's answer goes at once; the other files go with the one rm at the end.
  if [ "$mode" = post ]; then rm -f "$f.body"; fi
}
# `rootca`: the CA certificates (PEM) come on stdin as `P ` lines, before any probe starts; they
# go to a file only this user can read, and verify that probe alone.
for a in "$@"; do
  case "$a" in rootca|rootca,id)
    input=$(cat)
    (umask 077; printf '%s\n' "$input" | sed -n 's/^P //p' >"$tmp.ca")
    break;;
  esac
done
n=0; post_at=""
while [ $# -ge 2 ]; do
  n=$((n+1))
  if [ "$1" = post ]; then post_at=$n; else one "$n" "$1" "$2" & fi
  shift 2
done
if [ -n "$post_at" ]; then
  [ -f "$tmp.ca" ] || input=$(cat)
  purl=$(printf '%s\n' "$input" | sed -n 's/^U //p' | sed -n 1p)
  if [ -n "$purl" ]; then one "$post_at" post "$purl" &
  else printf 'R\t%s\t253\t\t\t\t\t\t\tnot sent\t\n' "$post_at" >"$tmp.$post_at.line"; fi
fi
wait
# The results in order, read by the shell itself; then every file this run made, with one rm
# (the arguments are all used by now, so they hold the names).
set -- "$tmp.ca"
i=1
while [ "$i" -le "$n" ]; do
  f="$tmp.$i"
  if [ -f "$f.line" ]; then
    while IFS= read -r l; do printf '%s\n' "$l"; done <"$f.line"
  else
    printf 'R\t%s\t255\t\t\t\t\t\t\t\tno result\t\n' "$i"
  fi
  set -- "$@" "$f.line" "$f.body" "$f.err" "$f.warn" "$f.post"
  i=$((i+1))
done
rm -f "$@"
