package cli

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The forge token is the one secret the CLI handles. It goes from the
// command line, a file or the environment into the params of user.create
// and nowhere else: not into a message, an error, the JSON output or the
// progress lines. The host promises the same; redact makes the CLI keep
// the promise even if a message from the host ever broke it.

// forgeToken picks the token: --forge-token, then --forge-token-file, then
// $FORGE_TOKEN (flags beat environment). Kong's xor already refuses both
// flags at once. Messages name where the token came from, never its text.
func forgeToken(rt *runCtx, flag, file string) (string, error) {
	var tok, from string
	switch {
	case flag != "":
		tok, from = flag, "--forge-token"
	case file != "":
		b, err := readInput(rt, "--forge-token-file", file)
		if err != nil {
			return "", err
		}
		tok, from = string(b), "--forge-token-file "+file
	default:
		tok, from = rt.env.Getenv("FORGE_TOKEN"), "FORGE_TOKEN"
	}
	tok = strings.TrimSpace(tok)
	if file != "" && tok == "" {
		return "", usageErrorf("%s is empty", from)
	}
	if strings.IndexFunc(tok, unicode.IsSpace) >= 0 || strings.IndexFunc(tok, unicode.IsControl) >= 0 {
		return "", usageErrorf("%s: the token must be one word on one line", from)
	}
	return tok, nil
}

// minSecret is the shortest secret redact replaces: replacing every "a"
// in a message would make it unreadable and protect nothing.
const minSecret = 4

// redact returns err with every secret replaced by [redacted]. A wire
// error stays a wire error (report prints its field and step), and an
// error that holds no secret is returned as it is, so IsUnreachable and
// errors.As keep working.
func redact(err error, secrets ...string) error {
	secrets = worthRedacting(secrets)
	if err == nil || len(secrets) == 0 {
		return err
	}
	var we *api.Error
	if errors.As(err, &we) {
		return redactWire(we, secrets)
	}
	if msg := scrub(err.Error(), secrets); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// worthRedacting drops the secrets too short to replace (see minSecret).
func worthRedacting(secrets []string) []string {
	return slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return len(s) < minSecret })
}

// redactWire is redact for a host error: a copy with message, command and
// stderr scrubbed.
func redactWire(we *api.Error, secrets []string) *api.Error {
	out := *we
	out.Message = scrub(we.Message, secrets)
	if we.Data != nil {
		d := *we.Data
		d.Stderr = scrub(d.Stderr, secrets)
		d.Command = slices.Clone(d.Command)
		for i := range d.Command {
			d.Command[i] = scrub(d.Command[i], secrets)
		}
		out.Data = &d
	}
	return &out
}

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}
