package sshfiles

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// PrivateName is the keypair's private half; the public one adds ".pub".
const PrivateName = "id_ed25519"

// maxKeyFile bounds a key file read back.
const maxKeyFile = 64 << 10

// Keypairs makes users' own ed25519 keypairs: atomically (temp file,
// fsync, chown, chmod, rename) owned by the user — without the fsyncs
// under volumes.DeferSync, each file then named in Unsynced — in a
// directory made 0700 when missing, everything through Fence: a key
// directory outside the policy's roots, or an owner that is not a managed
// account and group, is refused with PermissionDenied, and a symlink at
// the directory or a key file, or a key file with more than one hard
// link, with FailedPrecondition (a user could point either at
// /etc/shadow).
type Keypairs struct {
	Fence *fsutil.Fence
	// Rand draws the keys; crypto/rand when nil.
	Rand io.Reader
	// dirs serializes the read-modify-write of one directory's files, so
	// concurrent calls never pair halves of two keys, while calls for
	// different users run in parallel.
	dirs keylock.Map
}

func (k *Keypairs) rand() io.Reader {
	if k.Rand != nil {
		return k.Rand
	}
	return rand.Reader
}

// GenerateKeypair keeps an existing pair unless spec.Overwrite: the
// private key is the truth, so a missing or stale id_ed25519.pub is
// rewritten from it, and owner and modes are repaired. A private key that
// cannot be read (garbage, or a format this plugin does not know) is
// FailedPrecondition unless spec.Overwrite.
func (k *Keypairs) Generate(ctx context.Context, spec sshkeys.KeypairSpec) (sshkeys.Keypair, error) {
	if err := sshkeys.ValidateKeypairSpec(spec); err != nil {
		return sshkeys.Keypair{}, err
	}
	dir := spec.KeyDir()
	defer k.dirs.Lock(filepath.Clean(dir))()
	if err := k.Fence.EnsureDir(dir, spec.User.UID, spec.User.GID, 0o700); err != nil {
		return sshkeys.Keypair{}, err
	}
	w := &keyWriter{fence: k.Fence, spec: spec, dir: dir, sync: !volumes.SyncDeferred(ctx)}
	if !spec.Overwrite {
		priv, st, err := k.Fence.ReadFile(w.privPath(), maxKeyFile)
		switch {
		case err == nil:
			return w.keep(priv, st)
		case !sdkerr.Is(err, sdkerr.NotFound):
			return sshkeys.Keypair{}, err
		}
	}
	return w.generate(k.rand())
}

// keyWriter writes one keypair: into dir, owned by the spec's user, with
// the fsyncs or, under DeferSync, without them and each file written
// named in Unsynced.
type keyWriter struct {
	fence    *fsutil.Fence
	spec     sshkeys.KeypairSpec
	dir      string
	sync     bool
	unsynced []string
}

func (w *keyWriter) privPath() string { return filepath.Join(w.dir, PrivateName) }

func (w *keyWriter) write(path string, data []byte, mode uint32) error {
	if err := w.fence.WriteFile(path, data, w.spec.User.UID, w.spec.User.GID, mode, w.sync); err != nil {
		return err
	}
	if !w.sync {
		w.unsynced = append(w.unsynced, path)
	}
	return nil
}

func (w *keyWriter) keypair(pub ssh.PublicKey, line string) sshkeys.Keypair {
	priv := w.privPath()
	return sshkeys.Keypair{PublicKey: line, Fingerprint: ssh.FingerprintSHA256(pub), PrivatePath: priv,
		PublicPath: priv + ".pub", Unsynced: w.unsynced}
}

// generate writes a new pair.
func (w *keyWriter) generate(random io.Reader) (sshkeys.Keypair, error) {
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return sshkeys.Keypair{}, sdkerr.Wrap(err, sdkerr.Internal, "generate an ed25519 key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, w.spec.Comment)
	if err != nil {
		return sshkeys.Keypair{}, sdkerr.Wrap(err, sdkerr.Internal, "encode the private key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return sshkeys.Keypair{}, sdkerr.Wrap(err, sdkerr.Internal, "encode the public key: %v", err)
	}
	if err := w.write(w.privPath(), pem.EncodeToMemory(block), 0o600); err != nil {
		return sshkeys.Keypair{}, err
	}
	return w.writePublic(sshPub, publicLine(sshPub, w.spec.Comment))
}

// keep answers with an existing private key, repairing what is around it.
func (w *keyWriter) keep(priv []byte, st unix.Stat_t) (sshkeys.Keypair, error) {
	privPath, u := w.privPath(), w.spec.User
	pub, err := publicOf(priv)
	if err != nil {
		return sshkeys.Keypair{}, sdkerr.Wrap(err, sdkerr.FailedPrecondition,
			"%s exists but is not a private key this plugin can read (%v); generate with overwrite to replace it", privPath, err)
	}
	if !owned(st, u.UID, u.GID, 0o600) {
		if err := w.write(privPath, priv, 0o600); err != nil {
			return sshkeys.Keypair{}, err
		}
	}
	line := publicLine(pub, w.spec.Comment)
	old, pst, err := w.fence.ReadFile(privPath+".pub", maxKeyFile)
	if err != nil && !sdkerr.Is(err, sdkerr.NotFound) {
		return sshkeys.Keypair{}, err
	}
	if err == nil {
		if k, _, _, _, perr := ssh.ParseAuthorizedKey(old); perr == nil && ssh.FingerprintSHA256(k) == ssh.FingerprintSHA256(pub) {
			line = strings.TrimSpace(string(old))
			if owned(pst, u.UID, u.GID, 0o644) {
				return w.keypair(pub, line), nil
			}
		}
	}
	return w.writePublic(pub, line)
}

// publicOf derives the public key of an OpenSSH or PEM private key; an
// encrypted key still names its public half.
func publicOf(priv []byte) (ssh.PublicKey, error) {
	signer, err := ssh.ParsePrivateKey(priv)
	if err == nil {
		return signer.PublicKey(), nil
	}
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) && missing.PublicKey != nil {
		return missing.PublicKey, nil
	}
	return nil, err
}

func (w *keyWriter) writePublic(pub ssh.PublicKey, line string) (sshkeys.Keypair, error) {
	if err := w.write(w.privPath()+".pub", []byte(line+"\n"), 0o644); err != nil {
		return sshkeys.Keypair{}, err
	}
	return w.keypair(pub, line), nil
}

// publicLine is the authorized_keys line of pub: type, base64, comment.
func publicLine(pub ssh.PublicKey, comment string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		line += " " + comment
	}
	return line
}

// owned reports whether st has the owner, group and mode a file should.
func owned(st unix.Stat_t, uid, gid, mode uint32) bool {
	return st.Uid == uid && st.Gid == gid && st.Mode&0o7777 == mode
}
