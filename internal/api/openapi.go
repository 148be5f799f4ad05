package api

import (
	"net/http"
	"strconv"
	"strings"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPI builds the OpenAPI 3.1 document from the route table and the
// hand-written component schemas.
func openAPI(routes []route) obj {
	paths := obj{}
	for _, rt := range routes {
		p := "/api" + rt.path
		item, _ := paths[p].(obj)
		if item == nil {
			item = obj{}
			paths[p] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "keyway Core API",
			"version": "1",
			"description": "Manage keyway's clients, users, credentials, targets and proxies. " +
				"Authenticate with a user token: `Authorization: Bearer u-…` (or the raw `u-…`). " +
				"Every route under /api also answers without the /api prefix for /clients, /users, /invites, /notifications and /regions.",
		},
		"security": []obj{{"userToken": []string{}}},
		"paths":    paths,
		"components": obj{
			"schemas": schemas(),
			"securitySchemes": obj{
				"userToken": obj{"type": "http", "scheme": "bearer", "description": "a user token (u-…); the Bearer scheme is optional"},
			},
		},
	}
}

func operation(rt route) obj {
	op := obj{
		"operationId": operationID(rt),
		"summary":     rt.summary,
		"tags":        []string{rt.tag},
		"responses": obj{
			strconv.Itoa(rt.successStatus()): obj{
				"description": http.StatusText(rt.successStatus()),
				"content":     obj{"application/json": obj{"schema": ref(rt.response)}},
			},
			"default": obj{
				"description": "Error",
				"content":     obj{"application/json": obj{"schema": ref("Error")}},
			},
		},
	}
	if rt.public {
		op["security"] = []obj{}
	}
	var params []obj
	for _, name := range pathParams(rt.path) {
		desc := "the " + strings.TrimSuffix(name, "Id") + " id"
		if name == "userId" {
			desc = "a user id, or `me` for the authenticated user"
		}
		params = append(params, obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}})
	}
	for _, q := range rt.query {
		sch := obj{"type": q.typ}
		if len(q.enum) > 0 {
			sch["enum"] = q.enum
		}
		params = append(params, obj{"name": q.name, "in": "query", "required": false, "description": q.desc, "schema": sch})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.request != "" {
		op["requestBody"] = obj{
			"required": rt.method == http.MethodPost && rt.successStatus() == http.StatusCreated,
			"content":  obj{"application/json": obj{"schema": ref(rt.request)}},
		}
	}
	return op
}

// pathParams lists the {names} of a pattern in order.
func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

// operationID derives a unique id: method + path words, parameters as "By…".
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, seg := range strings.Split(rt.path, "/") {
		seg = strings.TrimSuffix(seg, ".json")
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, "{") {
			b.WriteString("By")
			seg = strings.Trim(seg, "{}")
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String()
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
