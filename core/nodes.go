package core

import (
	"context"
	"maps"
)

// The node methods keep a local registry on a host outside any fleet (a
// list, as before the fleet); in a fleet they are the fleet's live view
// (fleet_nodes.go), and fleet-init takes the local registry's nodes and
// labels along as pre-registered members.

// NodeAdd validates and stores a new node; an existing name is
// AlreadyExists. In a fleet it registers the node before it joins.
func (s *Service) NodeAdd(ctx context.Context, n Node) (Node, error) {
	if s.inFleet(ctx) {
		return s.FleetNodeAdd(ctx, n)
	}
	if err := ValidateNodeName("name", n.Name); err != nil {
		return Node{}, err
	}
	if err := ValidateNodeAddress("address", n.Address); err != nil {
		return Node{}, err
	}
	if err := ValidateLabels("labels", n.Labels); err != nil {
		return Node{}, err
	}
	n.Labels = maps.Clone(n.Labels)
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Created = s.now().UTC()
	err := s.store.Update(func(tx Tx) error {
		var old Node
		found, err := getJSON(tx, keyNode+n.Name, &old)
		if err != nil {
			return err
		}
		if found {
			return &Error{Code: AlreadyExists, Field: "name", Message: "node " + n.Name + " already exists"}
		}
		return putJSON(tx, keyNode+n.Name, n)
	})
	return n, err
}

// NodeRemove deletes a node; a missing one is NotFound. In a fleet it
// evicts the node.
func (s *Service) NodeRemove(ctx context.Context, name string) error {
	if s.inFleet(ctx) {
		return s.FleetNodeRemove(ctx, name)
	}
	if err := ValidateNodeName("name", name); err != nil {
		return err
	}
	return s.store.Update(func(tx Tx) error {
		if _, err := tx.Get(keyNode + name); err != nil {
			return notFound(err, "node", name)
		}
		return tx.Delete(keyNode + name)
	})
}

// NodeGet returns one node.
func (s *Service) NodeGet(ctx context.Context, name string) (Node, error) {
	if s.inFleet(ctx) {
		return s.FleetNode(ctx, name)
	}
	if err := ValidateNodeName("name", name); err != nil {
		return Node{}, err
	}
	var n Node
	err := s.store.View(func(tx Tx) error {
		found, err := getJSON(tx, keyNode+name, &n)
		if err == nil && !found {
			return notFound(ErrKeyNotFound, "node", name)
		}
		return err
	})
	return n, err
}

// NodeList returns all nodes in name order.
func (s *Service) NodeList(ctx context.Context) ([]Node, error) {
	if s.inFleet(ctx) {
		return s.FleetNodes(ctx)
	}
	return s.LocalNodes(ctx)
}

// LocalNodes is the local registry, whatever the fleet.
func (s *Service) LocalNodes(ctx context.Context) ([]Node, error) {
	return listJSON[Node](s.store, keyNode)
}
