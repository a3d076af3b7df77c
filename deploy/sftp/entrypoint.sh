#!/bin/bash
# Starts one of EIKIS's SFTP servers (SFTP_ROLE=in or out): makes the chrooted, key-only accounts the accounts
# file lists, then runs sshd. Runs at every start, so the accounts file is the whole truth: edit it and restart.
#
# sftp-in  (/etc/eikis-sftp/accounts = config/sftp-in.accounts), one line per provider:
#     account uid into folder public-key        into: inbox or claims; folder: where its files go under P/
#   home /srv/drop/<account> (root-owned chroot) with upload/ (the collector's, uid 50000) holding upload/<P>/.
# sftp-out (config/sftp-out.accounts), one line per recipient:
#     account uid folder public-key             folder: the recipient's outbox folder (e.g. municipalities/0001000)
#   home /srv/outgoing/<folder> (root-owned chroot) with files/ (EIKIS's, group: the recipient's own).
#   EIKIS's own writer account `eikis` (uid 50000) is chrooted to /srv and authorised by /etc/eikis-sftp/eikis.pub.
set -euo pipefail
role="${SFTP_ROLE:-}"
accounts=/etc/eikis-sftp/accounts
fail() { echo "sftp-$role: $*" >&2; exit 1; }
[[ "$role" == in || "$role" == out ]] || fail "SFTP_ROLE must be in or out"
[[ -s /etc/ssh/ssh_host_ed25519_key ]] || fail "no host key at /etc/ssh/ssh_host_ed25519_key"
[[ -f "$accounts" ]] || fail "no accounts file at $accounts"
install -d -o root -g root -m 0755 /etc/ssh/authorized_keys /run/sshd
getent group eikis >/dev/null || groupadd -g 50000 eikis

root_owned() {  # every component of a chroot path root-owned and not writable by others (sshd's rule)
  local path="" part
  IFS=/ read -ra parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    install -d -o root -g root -m 0755 "$path"
  done
}

unlock() {  # no password at all ('*'), rather than useradd's locked '!': sshd refuses a locked account even its key
  usermod -p '*' "$1"
}

add_account() {  # name uid group home key
  local name="$1" uid="$2" group="$3" home="$4" key="$5"
  [[ "$name" =~ ^[a-z][a-z0-9_]{0,30}$ ]] || fail "account '$name': lower-case letters, digits, _"
  [[ "$uid" =~ ^[1-9][0-9]{3,4}$ && "$uid" != 50000 ]] || fail "account $name: uid 1000-99999, not 50000"
  [[ "$key" =~ ^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|rsa-sha2-512|ssh-rsa)\ [A-Za-z0-9+/=]+ ]] \
    || fail "account $name: the last field must be an OpenSSH public key"
  getent group "$name" >/dev/null || groupadd -g "$uid" "$name"
  id -u "$name" >/dev/null 2>&1 || useradd -M -N -u "$uid" -g "$name" -G "$group" -d "$home" -s /usr/sbin/nologin "$name"
  unlock "$name"
  printf '%s\n' "$key" > "/etc/ssh/authorized_keys/$name"
  chmod 0644 "/etc/ssh/authorized_keys/$name"
}

check_folder() {
  [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_./-]*$ && ! "$1" =~ (^|/)\.\.?(/|$) ]] || fail "folder '$1' is not a plain path"
}

getent group sftp-provider >/dev/null || groupadd -r sftp-provider
getent group sftp-recipient >/dev/null || groupadd -r sftp-recipient
getent group sftp-writer >/dev/null || groupadd -r sftp-writer

if [[ "$role" == in ]]; then
  root_owned /srv/drop
  while read -r name uid into folder key; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    [[ "$into" == inbox || "$into" == claims ]] || fail "account $name: into must be inbox or claims"
    check_folder "$folder"
    root_owned "/srv/drop/$name"
    install -d -o 50000 -g 50000 -m 0755 "/srv/drop/$name/upload"
    add_account "$name" "$uid" sftp-provider "/srv/drop/$name" "$key"
  done < "$accounts"
  allow=sftp-provider
else
  [[ -s /etc/eikis-sftp/eikis.pub ]] || fail "no delivery key at /etc/eikis-sftp/eikis.pub"
  root_owned /srv/outgoing
  id -u eikis >/dev/null 2>&1 || useradd -M -N -u 50000 -g eikis -G sftp-writer -d /srv -s /usr/sbin/nologin eikis
  unlock eikis
  install -m 0644 /etc/eikis-sftp/eikis.pub /etc/ssh/authorized_keys/eikis
  while read -r name uid folder key; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    check_folder "$folder"
    root_owned "/srv/outgoing/$folder"
    add_account "$name" "$uid" sftp-recipient "/srv/outgoing/$folder" "$key"
    install -d -o eikis -g "$name" -m 2750 "/srv/outgoing/$folder/files"
  done < "$accounts"
  allow="sftp-recipient sftp-writer"
fi
exec /usr/sbin/sshd -D -e -o "AllowGroups=$allow"
