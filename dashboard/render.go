package dashboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

//go:embed templates/*.html
var templateFS embed.FS

// page is what every template gets: the layout's parts, and Body for the
// tab's own content.
type page struct {
	Title string
	Tab   string // the nav entry to mark current
	Who   string
	Open  bool
	Setup *SetupStatus
	Flash *flash
	// Live lists the topics whose changes reload parts of this page.
	Live string
	Body any
}

// tab is one entry of the navigation.
type tab struct{ Key, Label, Path string }

var tabs = []tab{
	{"overview", "Overview", "/"},
	{"users", "Users", "/users"},
	{"sessions", "Sessions", "/sessions"},
	{"groups", "Groups", "/groups"},
	{"fleet", "Fleet", "/fleet"},
	{"plugins", "Plugins", "/plugins"},
	{"admin", "Admin", "/admin"},
	{"audit", "Audit", "/audit"},
}

// pageNames are the templates besides the layout; each defines "content".
var pageNames = []string{
	"overview", "users", "usernew", "user", "sessions", "groups", "group",
	"fleet", "plugins", "admin", "audit", "message", "refused",
}

var funcs = template.FuncMap{
	"tabs":     func() []tab { return tabs },
	"bytes":    humanBytes,
	"ago":      ago,
	"join":     strings.Join,
	"split":    strings.Fields,
	"key":      core.DescribeKey,
	"pct":      pct,
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"duration": func(s int64) string { return (time.Duration(s) * time.Second).String() },
	"outcome":  outcomeBadge,
	"limits":   limitsText,
}

// limitsText says a user's CPU and memory limits, as the Users list and
// the user's page show them.
func limitsText(l *core.Limits) string {
	if l == nil || (l.MilliCPU == 0 && l.MemoryBytes == 0) {
		return "none"
	}
	cpu, mem := "unlimited", "unlimited"
	if l.MilliCPU > 0 {
		cpu = strconv.FormatFloat(float64(l.MilliCPU)/1000, 'f', -1, 64) + " cores"
	}
	if l.MemoryBytes > 0 {
		mem = humanBytes(l.MemoryBytes)
	}
	return "CPU " + cpu + ", memory " + mem
}

// parsePages parses the layout once and each page into its own copy of it.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		out[n] = t
	}
	return out, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// html renders a page into a buffer first, so a template error is a clean
// 500 and never half a page.
func (d *Dashboard) html(c *gin.Context, status int, name string, p page) {
	if w, ok := c.Get(whoKey); ok && p.Who == "" {
		p.Who = w.(who).String()
	}
	p.Open = d.cfg.Open
	if id := c.Query("flash"); id != "" && p.Flash == nil {
		p.Flash = d.flash.get(id)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := d.pages[name].ExecuteTemplate(buf, "layout", p); err != nil {
		d.log.Error("dashboard: render", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "internal error rendering the page\n")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// messageBody is the body of a page that only says something.
type messageBody struct {
	Text    string
	Details []string
	Back    string
}

// failPage answers with a message page, in the tab the URL belongs to.
func (d *Dashboard) failPage(c *gin.Context, status int, text string) {
	d.html(c, status, "message", page{Title: http.StatusText(status), Tab: tabOf(c.Request.URL.Path), Body: messageBody{Text: text, Back: back(c)}})
}

// failErr answers a failed use case with the status its code maps to and
// the error's public message (never its internal cause).
func (d *Dashboard) failErr(c *gin.Context, err error) {
	d.failPage(c, statusOf(err), api.FromError(err).Message)
}

// tabOf is the tab a URL belongs to, for the navigation of a message page.
func tabOf(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	for _, t := range tabs {
		if t.Path == "/"+first && first != "" {
			return t.Key
		}
	}
	return "overview"
}

// back is where a message page links back to: the page the form was on,
// always on this dashboard (a path such as //evil.example/x would make it
// a link to another host).
func back(c *gin.Context) string {
	if c.Request.Method != http.MethodPost {
		return "/"
	}
	p := c.Request.URL.Path
	if i := strings.LastIndexByte(p, '/'); i > 0 && !strings.HasSuffix(p, "/users") && !strings.HasSuffix(p, "/groups") {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return "/"
	}
	return p
}

// statusOf maps a core error code to an HTTP status.
func statusOf(err error) int {
	var e *core.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	switch e.Code {
	case core.Invalid:
		return http.StatusBadRequest
	case core.NotFound:
		return http.StatusNotFound
	case core.AlreadyExists, core.FailedPrecondition:
		return http.StatusConflict
	case core.Forbidden:
		return http.StatusForbidden
	case core.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// flash is a message shown once after a redirect (post/redirect/get).
type flash struct {
	OK      bool
	Text    string
	Details []string
	at      time.Time
}

// flashes keeps recent messages by a random id carried in the redirect's
// query: no cookie, and reading one changes nothing (GET stays safe). They
// expire after flashTTL; at most flashMax are kept.
type flashes struct {
	mu sync.Mutex
	m  map[string]*flash
}

const (
	flashTTL = 5 * time.Minute
	flashMax = 512
)

func newFlashes() *flashes { return &flashes{m: map[string]*flash{}} }

func (f *flashes) put(fl flash) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	fl.at = time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) >= flashMax {
		for k, v := range f.m {
			if time.Since(v.at) > flashTTL || len(f.m) >= flashMax {
				delete(f.m, k)
			}
		}
	}
	f.m[id] = &fl
	return id
}

func (f *flashes) get(id string) *flash {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.m[id]
	if fl == nil || time.Since(fl.at) > flashTTL {
		return nil
	}
	return fl
}

// done redirects to path after a change, with a message to show there.
func (d *Dashboard) done(c *gin.Context, path, text string, details ...string) {
	id := d.flash.put(flash{OK: true, Text: text, Details: details})
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, path+sep+"flash="+id)
}

// record writes one audit event of a dashboard call: what, on what, how it
// ended, and where it came from. A recording failure is logged and does not
// change the answer.
func (d *Dashboard) record(c *gin.Context, w who, method, target string, callErr error, took time.Duration) {
	if len(target) > 128 { // the target comes from the URL, before the core validated it
		target = target[:128] + "…"
	}
	ev := core.AuditEvent{
		ActorUID: w.caller.UID, Source: w.source(), Method: method, Target: target,
		Outcome: core.OutcomeOK, Duration: took,
	}
	if w.transport == TCP {
		ev.ActorUID = -1
	}
	if callErr != nil {
		ev.Outcome = core.OutcomeError
		ev.Error = api.FromError(callErr).Message
	}
	// A caller who is not an admin, refused over admin.sock, is folded
	// into counted records as over rpc.sock: one repeating a refused form
	// must not push the admins' records out of the log.
	if w.transport == Unix && !w.caller.Privileged && core.IsCode(callErr, core.Forbidden) &&
		!d.cfg.Refusals.Admit("uid "+strconv.Itoa(w.caller.UID), ev) {
		return
	}
	if _, err := d.svc.AuditRecord(context.WithoutCancel(c.Request.Context()), ev); err != nil {
		d.log.Error("dashboard: cannot record an audit event", "method", method, "source", ev.Source, "err", err)
	}
}

// change runs a state change for method on target: the privilege check of
// the method table, the call, and its audit record.
func (d *Dashboard) change(c *gin.Context, method, target string, call func(ctx context.Context) error) error {
	m, _ := api.Lookup(method)
	w := whoOf(c)
	start := time.Now()
	var err error
	if !m.Allowed(w.caller) {
		err = api.Forbidden(method, w.caller, d.cfg.Policy.Requirement())
	} else {
		err = call(c.Request.Context())
	}
	if m.Mutating {
		d.record(c, w, method, target, err, time.Since(start))
	}
	return err
}

func humanBytes(n int64) string {
	if n <= 0 {
		return "0 B"
	}
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

func pct(used, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(100, used*100/total)
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

// asset serves an embedded asset, cacheable for a day: its content changes
// only with the binary.
func (d *Dashboard) asset(c *gin.Context) {
	name := c.Param("file")
	b, err := fs.ReadFile(assetFS, "assets/"+name)
	if err != nil || strings.Contains(name, "/") {
		d.failPage(c, http.StatusNotFound, "No such asset.")
		return
	}
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "private, max-age=86400")
	c.Data(http.StatusOK, ct, b)
}

//go:embed assets
var assetFS embed.FS
