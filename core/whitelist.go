package core

import "context"

// WhitelistGet returns the dashboard's TCP access list; empty admits all.
func (s *Service) WhitelistGet(ctx context.Context) ([]string, error) {
	list := []string{}
	err := s.store.View(func(tx Tx) error {
		_, err := getJSON(tx, keyWhitelist, &list)
		return err
	})
	return list, err
}

// WhitelistSet validates, normalises and replaces the access list.
func (s *Service) WhitelistSet(ctx context.Context, entries []string) ([]string, error) {
	list, err := ParseWhitelist("addresses", entries)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx Tx) error { return putJSON(tx, keyWhitelist, list) })
	return list, err
}
