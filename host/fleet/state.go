package fleet

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// keyMembership is where the membership lives in the host's state. The
// state is encrypted at rest with the node's own key, which stays what it
// was: joining a fleet re-keys nothing. The fleet's secret and the state's
// key are separate, and a node that already has users joins with them.
const keyMembership = "fleet/membership"

// membership is what a host keeps of its fleet between starts.
type membership struct {
	FleetID  string `json:"fleet_id"`
	Node     string `json:"node"`
	NodeID   string `json:"node_id"`
	Role     string `json:"role"`
	Replicas int    `json:"replicas"`
	// Master is the fleet's master key, derived once from the passphrase
	// (which is never stored): a restart needs neither the passphrase nor
	// Argon2id again.
	Master  []byte `json:"master"`
	NATSURL string `json:"nats_url,omitempty"`
	Address string `json:"address,omitempty"`
	// Peers are the replica nodes, kept up to date from the members'
	// records, so a restarted node finds the fleet without its founder.
	Peers  []peer    `json:"peers"`
	Joined time.Time `json:"joined"`
}

// loadMembership reads the membership; nil when the host is in no fleet.
func loadMembership(st core.Store) (*membership, error) {
	var m *membership
	err := st.View(func(tx core.Tx) error {
		b, err := tx.Get(keyMembership)
		if errors.Is(err, core.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		m = &membership{}
		return json.Unmarshal(b, m)
	})
	return m, err
}

// saveMembership writes the membership (a synced commit).
func saveMembership(st core.Store, m *membership) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return st.Update(func(tx core.Tx) error { return tx.Set(keyMembership, b) })
}

// clearMembership forgets the fleet: the host is a single node again.
func clearMembership(st core.Store) error {
	return st.Update(func(tx core.Tx) error { return tx.Delete(keyMembership) })
}
