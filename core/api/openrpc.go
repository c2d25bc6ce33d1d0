package api

import (
	"reflect"
	"sort"
)

// OpenRPCVersion is the version of the OpenRPC specification the generated
// document follows.
const OpenRPCVersion = "1.3.2"

// Title is the API's name in the OpenRPC document.
const Title = "hero_codescalers"

// Schema is a JSON Schema object. It is a plain map so that the document
// marshals to exactly the keywords a schema has, nothing more.
type Schema map[string]any

// Document is an OpenRPC document: what rpc.discover returns and GET
// /openrpc.json serves.
type Document struct {
	OpenRPC    string      `json:"openrpc"`
	Info       DocInfo     `json:"info"`
	Methods    []DocMethod `json:"methods"`
	Components Components  `json:"components"`
}

// DocInfo is the document's info object.
type DocInfo struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Version     string `json:"version"`
}

// DocMethod describes one method. The x- members carry the table's access
// and audit flags, so a client can tell before calling what it may call.
type DocMethod struct {
	Name           string              `json:"name"`
	Summary        string              `json:"summary,omitempty"`
	ParamStructure string              `json:"paramStructure"`
	Params         []ContentDescriptor `json:"params"`
	Result         ContentDescriptor   `json:"result"`
	Errors         []Reference         `json:"errors,omitempty"`
	Access         string              `json:"x-access"`
	Mutating       bool                `json:"x-mutating,omitempty"`
}

// ContentDescriptor names a param or result and gives its schema.
type ContentDescriptor struct {
	Name     string `json:"name"`
	Required bool   `json:"required,omitempty"`
	Schema   Schema `json:"schema"`
}

// Reference points into the document's components.
type Reference struct {
	Ref string `json:"$ref"`
}

// Components holds the application error codes, referenced by the methods
// that can return them.
type Components struct {
	Errors map[string]DocError `json:"errors"`
}

// DocError is an OpenRPC error object.
type DocError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// appErrors are the application codes a client should expect, by the name
// under which components.errors lists them.
var appErrors = map[string]DocError{
	"NotFound":           {CodeNotFound, "not found"},
	"AlreadyExists":      {CodeAlreadyExists, "already exists"},
	"Forbidden":          {CodeForbidden, "forbidden: the method needs a privileged caller"},
	"PluginUnavailable":  {CodePluginUnavailable, "plugin unavailable"},
	"OSCommandFailed":    {CodeOSCommandFailed, "OS command failed"},
	"FailedPrecondition": {CodeFailedPrecondition, "failed precondition"},
}

// OpenRPC generates the document from a method table (normally Methods) by
// reflection over each method's params and result types, so the document
// cannot drift from what the server decodes and returns. version is the
// host's version.
func OpenRPC(methods []Method, version string) Document {
	doc := Document{
		OpenRPC: OpenRPCVersion,
		Info: DocInfo{
			Title: Title,
			Description: "JSON-RPC 2.0 API of the hero_codescalers host, served on its rpc.sock " +
				"(POST /rpc). Params go by name; an array in the listed order is accepted too. " +
				"Methods with x-access privileged need root, the host's uid or the admin group.",
			Version: version,
		},
		Methods:    make([]DocMethod, 0, len(methods)),
		Components: Components{Errors: map[string]DocError{}},
	}
	for name, e := range appErrors {
		doc.Components.Errors[name] = e
	}
	for _, m := range methods {
		doc.Methods = append(doc.Methods, docMethod(m))
	}
	return doc
}

func docMethod(m Method) DocMethod {
	d := DocMethod{
		Name:           m.Name,
		Summary:        m.Summary,
		ParamStructure: "by-name",
		Params:         paramDescriptors(reflect.TypeOf(m.Params)),
		Result:         ContentDescriptor{Name: "result", Schema: SchemaOf(reflect.TypeOf(m.Result))},
		Access:         "public",
		Mutating:       m.Mutating,
	}
	if m.Access == Privileged {
		d.Access = "privileged"
		d.Errors = append(d.Errors, Reference{Ref: "#/components/errors/Forbidden"})
	}
	return d
}

// paramDescriptors turns a params struct into one descriptor per field, in
// field order: by-name callers send them as an object, by-position callers
// as an array in this order.
func paramDescriptors(t reflect.Type) []ContentDescriptor {
	out := []ContentDescriptor{}
	if t == nil {
		return out
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return out
	}
	for _, f := range Fields(t) {
		out = append(out, ContentDescriptor{Name: f.Name, Required: f.Required, Schema: SchemaOf(f.Type)})
	}
	return out
}

// ErrorNames lists the names under which components.errors holds the
// application codes, sorted.
func ErrorNames() []string {
	names := make([]string, 0, len(appErrors))
	for n := range appErrors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
