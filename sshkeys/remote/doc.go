// Package remote owns keywright's conversations with SSH servers: resolving
// a target as OpenSSH would (USER@HOST[:PORT], a Host alias from
// ssh_config), checking the server's host key against known_hosts, logging
// in, and editing the remote authorized_keys file in one SSH session per
// edit (README "SSH": "Keys on many servers").
//
// The remote side is a short POSIX sh script (remoteScript): it sends the
// current file, takes the new one on stdin, writes it to a temporary file in
// the same directory and renames it over the old one only if the file has
// not changed in between; the decision of what the new file holds is made
// here, with the sshkeys package's authorized_keys editing, so that every
// other line stays byte for byte as it was.
//
// Like every keywright library it never prints, prompts or exits; the CLI
// asks for passwords and renders the per-host results.
package remote
