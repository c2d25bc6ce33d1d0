package core

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// PlanStep is one step a change would take, in order, as a dry run
// reports it: the step's name (as the journal and stats name it) and what
// it would do.
type PlanStep struct {
	Step   string `json:"step"`
	Detail string `json:"detail"`
}

// The dry runs below check what the real call checks before any tool
// runs — the input, the plugins, the name on the machine and in the state
// — with reads only: no journal, no lock held past the reads, no plugin
// call that changes anything. A plan that passes can still fail later on
// the machine (a full disk); one that fails would fail the same way.

// PlanCreate is the step plan of UserCreate(spec).
func (s *Service) PlanCreate(ctx context.Context, spec CreateSpec) ([]PlanStep, error) {
	if err := s.validateCreate(&spec); err != nil {
		return nil, err
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	if err := s.checkNewName(ctx, spec.Name); err != nil {
		return nil, err
	}
	l := s.layoutOf(spec.Name)
	owner, err := s.homeBefore(ctx, l.home, spec.UID, nil)
	if err != nil {
		return nil, err
	}
	return s.createPlan(ctx, spec, l, owner)
}

// createPlan lists the steps of one create whose spec passed the checks;
// owner is the home's owner when a volume the create may adopt is there.
func (s *Service) createPlan(ctx context.Context, spec CreateSpec, l layout, owner *volumes.Owner) ([]PlanStep, error) {
	uid := fmt.Sprintf("a free uid of %d..%d", s.cfg.UIDs.Min, s.cfg.UIDs.Max)
	if spec.UID != nil {
		uid = "uid " + strconv.Itoa(*spec.UID)
	}
	groups := "none"
	if len(spec.Groups) > 0 {
		groups = strings.Join(spec.Groups, ",")
	}
	var plan []PlanStep
	if !s.markerReady.Load() {
		plan = append(plan, PlanStep{"marker", "make sure group " + s.cfg.MarkerGroup + " exists"})
	}
	plan = append(plan,
		PlanStep{"account", fmt.Sprintf("create account %s: %s, own group, member of %s and groups %s, shell %s, home %s", spec.Name, uid, s.cfg.MarkerGroup, groups, spec.Shell, l.home)},
		volumeStep(l.home, spec, owner),
		PlanStep{"layout", fmt.Sprintf("create %s (0700), %s (0755), %s (0700), %s (0755), %s (0755)", l.ssh, l.hero, l.cfgDir, l.varDir, l.sockets)},
	)
	if ok, err := s.hasDriver(ctx); err != nil {
		return nil, err
	} else if ok {
		plan = append(plan, PlanStep{"acl", fmt.Sprintf("grant %s r-x (and rwx by default) on %s", s.cfg.DriverUser, l.sockets)})
	}
	plan = append(plan,
		PlanStep{"keys", fmt.Sprintf("install %d key(s) where the sshkeys plugin keeps them; generate an ed25519 keypair in %s", len(spec.SSHKeys), l.ssh)},
		PlanStep{"config", "write " + l.cfgFile + " (0600)" + tokenText(spec.ForgeToken)})
	if !spec.Limits.IsZero() {
		plan = append(plan, PlanStep{"limits", "limit the user's processes to " + spec.Limits.values().String() + " through the limits plugin"})
	}
	return append(plan,
		PlanStep{"sync", "make the home durable, then record the user in the state"},
	), nil
}

// volumeStep is the volume step: a new home, or the adoption of the
// volume found there (homeBefore).
func volumeStep(home string, spec CreateSpec, owner *volumes.Owner) PlanStep {
	if owner != nil {
		return PlanStep{"volume", fmt.Sprintf("adopt the volume already at %s (owned by uid %d, which has no account), quota %s", home, owner.UID, quotaText(spec.QuotaBytes))}
	}
	return PlanStep{"volume", fmt.Sprintf("create the home volume %s, owner %s, mode 0755, quota %s", home, spec.Name, quotaText(spec.QuotaBytes))}
}

// PlanDelete is the step plan of UserDelete(name, keepHome).
func (s *Service) PlanDelete(ctx context.Context, name string, keepHome bool) ([]PlanStep, error) {
	if err := ValidateUsername("name", name); err != nil {
		return nil, err
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	_, stateErr := s.UserGet(ctx, name)
	acct, err := s.plugins.Accounts().GetUser(ctx, name)
	switch {
	case err == nil && acct.UID == 0:
		return nil, InvalidField("name", "%q has uid 0; hero_codescalers never deletes it", name)
	case err == nil && !s.inMarker(acct):
		return nil, &Error{Code: Forbidden, Field: "name", Message: name + " is not a member of " + s.cfg.MarkerGroup + "; hero_codescalers does not manage it"}
	case err != nil && !IsCode(FromPluginError(err), NotFound):
		return nil, FromPluginError(err)
	case err != nil && stateErr != nil:
		return nil, stateErr
	}
	home := filepath.Join(s.cfg.HomeRoot, name)
	vol := "delete the home volume " + home
	if keepHome {
		vol = "keep the home as a read-only snapshot " + s.deletedPath(name, s.now())
	}
	return []PlanStep{
		{"keys", "revoke every key " + name + " logs in with (the sshkeys plugin forgets the user)"},
		{"sessions", "end every session and process of " + name},
		{"forget", "every other plugin forgets " + name},
		{"volume", vol},
		{"account", "delete account " + name + " and its own group"},
		{"state", "drop " + name + " from the state"},
	}, nil
}

// PlanQuota is the step plan of UserQuotaSet(name, bytes).
func (s *Service) PlanQuota(ctx context.Context, name string, bytes int64) ([]PlanStep, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return nil, err
	}
	if bytes < 0 {
		return nil, InvalidField("quota", "must not be negative")
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	return []PlanStep{{"quota", fmt.Sprintf("set the quota of %s from %s to %s", u.Home, quotaText(u.QuotaBytes), quotaText(bytes))}}, nil
}

func quotaText(bytes int64) string {
	if bytes <= 0 {
		return "none"
	}
	return strconv.FormatInt(bytes, 10) + " bytes"
}

func tokenText(tok string) string {
	if tok == "" {
		return ", no forge token"
	}
	return ", with the forge token"
}
