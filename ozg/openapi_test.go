package ozg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/ozg"
)

// The OpenAPI document and the handlers: the document is a valid OpenAPI
// 3.1 document, names exactly the registered routes, and what the
// handlers take and answer is what it describes.

func openAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(ozg.OpenAPI)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	return v
}

// openAPIJSON is the document as plain JSON, to read schemas and examples.
type openAPIJSON struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		RequestBody struct {
			Content map[string]struct {
				Examples map[string]struct {
					Value json.RawMessage `json:"value"`
				} `json:"examples"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Content map[string]struct {
				Examples map[string]struct {
					Value json.RawMessage `json:"value"`
				} `json:"examples"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func readOpenAPI(t *testing.T) openAPIJSON {
	t.Helper()
	var doc openAPIJSON
	require.NoError(t, json.Unmarshal(ozg.OpenAPI, &doc))
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	v := openAPIValidator(t)
	ok, errs := v.ValidateDocument()
	for _, e := range errs {
		t.Errorf("%s: %s (%v)", e.Message, e.Reason, e.SchemaValidationErrors)
	}
	assert.True(t, ok, "the document validates against the OpenAPI 3.1 schema")
	assert.Equal(t, "3.1.0", readOpenAPI(t).OpenAPI)
}

// Every operation of the document is a registered route and every
// registered route an operation, under one prefix.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := libopenapi.NewDocument(ozg.OpenAPI)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	var documented []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		assert.True(t, strings.HasPrefix(path, ozg.APIPrefix), path)
		for method := range item.GetOperations().KeysFromOldest() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	e := newIntakeEnv(t, nil)
	var registered []string
	for _, r := range e.intake.Routes() {
		registered = append(registered, r.Pattern())
	}
	assert.ElementsMatch(t, registered, documented)

	// The served document is the embedded one.
	w := e.do(t, httptest.NewRequestWithContext(context.Background(), http.MethodGet, ozg.OpenAPIPath, nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, ozg.OpenAPI, w.Body.Bytes())
}

// jsonNames are the JSON names of a struct's fields.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

// The schemas' properties are the Go contract's fields and the fields the
// handler reads.
func TestOpenAPISchemasMatchContract(t *testing.T) {
	schemas := readOpenAPI(t).Components.Schemas
	props := func(name string) []string { return slices.Collect(maps.Keys(schemas[name].Properties)) }
	assert.ElementsMatch(t, props("HelpRequest"), jsonNames(reflect.TypeFor[ozg.HelpRequestBody]()))
	assert.ElementsMatch(t, props("HelpRequest"), slices.Collect(maps.Keys(ozg.HelpRequestFields)), "the fields the handler reads")
	assert.ElementsMatch(t, []string{"service", "leika"}, schemas["HelpRequest"].Required)
	assert.ElementsMatch(t, props("HelpLink"), jsonNames(reflect.TypeFor[ozg.HelpRequestAnswer]()))
	assert.ElementsMatch(t, props("FieldError"), jsonNames(reflect.TypeFor[ozg.FieldErrorAnswer]()))
}

// Each request example of the document is taken by the handler, and the
// requests and answers of the handler, good and bad, are what the
// document describes.
func TestOpenAPIDescribesHandler(t *testing.T) {
	v := openAPIValidator(t)
	e := newIntakeEnv(t, nil)
	e.cfg.OZG.Services[0].ID = "bauantrag-online" // the examples' service

	// check sends body and validates request and answer against the
	// document; it returns the answer.
	check := func(t *testing.T, key, idem, body string) *httptest.ResponseRecorder {
		t.Helper()
		w := e.do(t, newHelpRequest(key, idem, body))
		ok, errs := v.ValidateHttpResponse(newHelpRequest(key, idem, body), w.Result())
		for _, err := range errs {
			t.Errorf("answer %d %s: %s: %s", w.Code, w.Body, err.Message, err.Reason)
		}
		assert.True(t, ok)
		return w
	}

	doc := readOpenAPI(t)
	examples := doc.Paths[ozg.HelpRequestsPath]["post"].RequestBody.Content["application/json"].Examples
	require.NotEmpty(t, examples)
	for name, ex := range examples {
		t.Run("example "+name, func(t *testing.T) {
			ok, errs := v.ValidateHttpRequest(newHelpRequest(bauKey, "example-"+name, string(ex.Value)))
			for _, err := range errs {
				t.Errorf("%s: %s", err.Message, err.Reason)
			}
			assert.True(t, ok)
			dec := json.NewDecoder(bytes.NewReader(ex.Value))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&ozg.HelpRequestBody{}), "the example is a HelpRequestBody")
			answerOf(t, check(t, bauKey, "example-"+name, string(ex.Value)))
			w := check(t, bauKey, "example-"+name, string(ex.Value))
			assert.Equal(t, "true", w.Header().Get(ozg.ReplayedHeader))
		})
	}
	for _, ex := range doc.Paths[ozg.HelpRequestsPath]["post"].Responses["201"].Content["application/json"].Examples {
		dec := json.NewDecoder(bytes.NewReader(ex.Value))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&ozg.HelpRequestAnswer{}), "the answer's example is a HelpRequestAnswer")
	}

	// Every error the handler gives is described.
	minimal := `{"service":"bauantrag-online","leika":"99108008000000"}`
	for _, tc := range []struct {
		name, key, idem, body string
		status                int
	}{
		{"no key", "", "k", minimal, 401},
		{"another service's key", parkKey, "k", minimal, 403},
		{"no Idempotency-Key", bauKey, "", minimal, 400},
		{"not JSON", bauKey, "k", "{", 400},
		{"bad field", bauKey, "k", `{"service":"bauantrag-online","leika":"1"}`, 400},
		{"too large", bauKey, "k", `{"step":"` + strings.Repeat("x", 5000) + `"}`, 413},
		{"first", bauKey, "reused", minimal, 201},
		{"key reused", bauKey, "reused", `{"service":"bauantrag-online","leika":"99108008000001"}`, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := check(t, tc.key, tc.idem, tc.body)
			assert.Equal(t, tc.status, w.Code)
		})
	}
	served, err := io.ReadAll(e.do(t, httptest.NewRequestWithContext(context.Background(), http.MethodGet, ozg.OpenAPIPath, nil)).Result().Body)
	require.NoError(t, err)
	assert.JSONEq(t, string(ozg.OpenAPI), string(served))
}
