package sessions

import (
	"regexp"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// idRE admits session ids of utmp, logind and tmux-like plugins: short
// tokens that cannot be read as options, paths or tmux targets (":").
// It is compiled on first use: its bounded repetition is costly to
// compile, and every binary linking the sdk would pay for it at start.
var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$`) })

// MaxGrace bounds the grace period of a kill, so a call cannot hang a
// plugin for long.
const MaxGrace = 5 * time.Minute

// ValidateID checks a session id.
func ValidateID(id string) error {
	if id == "" {
		return sdkerr.Invalid("id", "is required")
	}
	if !idRE().MatchString(id) {
		return sdkerr.Invalid("id", "%q must match %s", id, idRE())
	}
	return nil
}

// ValidateUser checks the user of KillUserSessions: never empty, since
// "everyone" is not a target.
func ValidateUser(user string) error { return check.Name("user", user) }

// ValidateGrace checks the grace period of a kill: 0 to MaxGrace.
func ValidateGrace(g time.Duration) error {
	if g < 0 || g > MaxGrace {
		return sdkerr.Invalid("grace_ms", "must be between 0 and %s", MaxGrace)
	}
	return nil
}
