package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core"
)

// The fleet's ports of instance N, beside the dashboard's 5000+N, so
// several instances on one address (tests, staging) never collide.
const (
	// ClientBase+N: the embedded server's client port, on 127.0.0.1 only.
	ClientBase = 5100
	// RouteBase+N: cluster routes between replica nodes, on the node's
	// mycelium address, mutual TLS 1.3.
	RouteBase = 5200
	// LeafBase+N: leaf-node connections (and fleet-join's first contact),
	// on the node's mycelium address, mutual TLS 1.3.
	LeafBase = 5300
)

// Ports are one instance's fleet ports.
type Ports struct {
	Client, Route, Leaf int
}

// PortsOf returns the ports of instance n.
func PortsOf(n int) Ports {
	return Ports{Client: ClientBase + n, Route: RouteBase + n, Leaf: LeafBase + n}
}

// nodeIDFile holds the node id in the data dir.
const nodeIDFile = "node_id"

// NodeID returns the node's id, generating it into dataDir on first use:
// it tells two nodes of the same name apart (a second machine joining
// under a name already taken is refused; the same node rejoining is not).
func NodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if len(id) == 32 {
			if _, err := hex.DecodeString(id); err == nil {
				return id, nil
			}
		}
		return "", fmt.Errorf("%s holds no node id (32 hex digits): restore or remove it", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return NodeID(dataDir) // another start won the race
	}
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return id, err
}

// NodeName is the node's name: the one given (--node-name), else the host
// name, with _N for instance N > 0. A host name that is no valid node name
// is lowered and cleaned.
func NodeName(given string, instance int) (string, error) {
	name := given
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", err
		}
		name = cleanName(strings.SplitN(h, ".", 2)[0])
		if instance > 0 {
			name += "_" + strconv.Itoa(instance)
		}
	}
	if err := core.ValidateNodeName("node_name", name); err != nil {
		return "", err
	}
	return name, nil
}

// cleanName maps a host name onto the node-name shape.
func cleanName(h string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(h) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "node"
	}
	return s
}

// subjectToken encodes a node name as one token of a NATS subject (and of
// a KV key): a node name may hold dots, which a subject reads as
// separators, and never "=", which takes the dots' place.
func subjectToken(node string) string { return strings.ReplaceAll(node, ".", "=") }

// nodeFromToken reverses subjectToken.
func nodeFromToken(tok string) string { return strings.ReplaceAll(tok, "=", ".") }
