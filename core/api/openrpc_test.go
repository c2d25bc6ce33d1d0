package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The meta-schemas come from the npm packages @open-rpc/meta-schema 1.14.9
// and @json-schema-tools/meta-schema 1.8.0 (Apache-2.0); see
// testdata/README.md. The OpenRPC one refers to the JSON Schema one for
// every schema in the document, so both are needed.
const (
	openrpcMetaURL = "https://meta.open-rpc.org/"
	jsonSchemaURL  = "https://meta.json-schema.tools/"
)

// loadMeta reads a meta-schema from testdata, without its "$schema" (which
// names the meta-schema itself and would send the compiler looking for it
// on the network) and with its references to the JSON Schema meta-schema
// spelled as that schema's $id.
func loadMeta(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte(`"https://meta.json-schema.tools"`), []byte(`"`+jsonSchemaURL+`"`))
	b = bytes.ReplaceAll(b, []byte(`"https://meta.json-schema.tools/#`), []byte(`"`+jsonSchemaURL+`#`))
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	delete(doc.(map[string]any), "$schema")
	return doc
}

func marshalDoc(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(api.OpenRPC(api.Methods, "1.2.3-test"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenRPCValidAgainstMetaSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(jsonSchemaURL, loadMeta(t, "json-schema-tools-meta-schema.json")); err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(openrpcMetaURL, loadMeta(t, "openrpc-meta-schema.json")); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(openrpcMetaURL)
	if err != nil {
		t.Fatalf("compile meta-schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(marshalDoc(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("document is not valid OpenRPC: %v", err)
	}
	// The validator must be able to fail: a document without methods is
	// not OpenRPC.
	delete(inst.(map[string]any), "methods")
	if sch.Validate(inst) == nil {
		t.Fatal("meta-schema accepted a document without methods")
	}
}

func TestOpenRPCStructure(t *testing.T) {
	var doc struct {
		OpenRPC string `json:"openrpc"`
		Info    struct{ Title, Version string }
		Methods []struct {
			Name           string
			ParamStructure string `json:"paramStructure"`
			Params         []struct {
				Name     string
				Required bool
				Schema   map[string]any
			}
			Result struct {
				Name   string
				Schema map[string]any
			}
			Access string `json:"x-access"`
			Errors []map[string]string
		}
		Components struct{ Errors map[string]struct{ Code int } }
	}
	if err := json.Unmarshal(marshalDoc(t), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenRPC != api.OpenRPCVersion || doc.Info.Title != api.Title || doc.Info.Version != "1.2.3-test" {
		t.Fatalf("header: %+v %+v", doc.OpenRPC, doc.Info)
	}
	if len(doc.Methods) != len(api.Methods) {
		t.Fatalf("%d methods in the document, %d in the table", len(doc.Methods), len(api.Methods))
	}
	for i, m := range doc.Methods {
		want := api.Methods[i]
		if m.Name != want.Name || m.ParamStructure != "by-name" {
			t.Errorf("method %d: %q %q, want %q by-name", i, m.Name, m.ParamStructure, want.Name)
		}
		if m.Result.Schema["type"] == nil {
			t.Errorf("%s: result schema has no type: %v", m.Name, m.Result.Schema)
		}
		fields := api.Fields(reflect.TypeOf(want.Params))
		if len(m.Params) != len(fields) {
			t.Errorf("%s: %d params, want %d", m.Name, len(m.Params), len(fields))
		}
		for j, p := range m.Params {
			if p.Name != fields[j].Name || p.Required != fields[j].Required || p.Schema["type"] == nil {
				t.Errorf("%s param %d: %+v, want field %+v", m.Name, j, p, fields[j])
			}
		}
		privileged := want.Access == api.Privileged
		if (m.Access == "privileged") != privileged || (len(m.Errors) > 0) != privileged {
			t.Errorf("%s: access %q errors %v, privileged %v", m.Name, m.Access, m.Errors, privileged)
		}
	}
	if doc.Components.Errors["Forbidden"].Code != api.CodeForbidden || len(doc.Components.Errors) != len(api.ErrorNames()) {
		t.Errorf("components.errors: %+v", doc.Components.Errors)
	}
}

type inner struct {
	Deep string `json:"deep"`
}

type embedded struct {
	Promoted int `json:"promoted"`
}

type recursive struct {
	Name     string       `json:"name"`
	Children []*recursive `json:"children"`
}

type sample struct {
	embedded
	Name    string            `json:"name" required:"true"`
	Count   uint16            `json:"count,omitempty"`
	Ratio   float64           `json:"ratio"`
	On      bool              `json:"on"`
	When    time.Time         `json:"when"`
	Tags    []string          `json:"tags"`
	Labels  map[string]string `json:"labels"`
	Nested  *inner            `json:"nested"`
	Raw     json.RawMessage   `json:"raw"`
	Blob    []byte            `json:"blob"`
	Skipped string            `json:"-"`
	hidden  string
	Untaged string
}

func TestSchemaOf(t *testing.T) {
	s := api.SchemaOf(reflect.TypeFor[sample]())
	props := s["properties"].(api.Schema)
	tests := []struct {
		prop, want string
	}{
		{"promoted", `{"type":"integer"}`},
		{"name", `{"type":"string"}`},
		{"count", `{"minimum":0,"type":"integer"}`},
		{"ratio", `{"type":"number"}`},
		{"on", `{"type":"boolean"}`},
		{"when", `{"format":"date-time","type":"string"}`},
		{"tags", `{"items":{"type":"string"},"type":"array"}`},
		{"labels", `{"additionalProperties":{"type":"string"},"type":"object"}`},
		{"nested", `{"additionalProperties":false,"properties":{"deep":{"type":"string"}},"title":"inner","type":"object"}`},
		{"raw", `{}`},
		{"blob", `{"contentEncoding":"base64","type":"string"}`},
		{"Untaged", `{"type":"string"}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(props[tt.prop])
		if string(got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.prop, got, tt.want)
		}
	}
	if len(props) != len(tests) {
		t.Errorf("properties %v: want exactly %d", props, len(tests))
	}
	if req, _ := json.Marshal(s["required"]); string(req) != `["name"]` {
		t.Errorf("required: %s", req)
	}
	rec, _ := json.Marshal(api.SchemaOf(reflect.TypeFor[recursive]()))
	if !strings.Contains(string(rec), `"children":{"items":{},"type":"array"}`) {
		t.Errorf("recursive type: %s", rec)
	}
}
