package api_test

// Permission-matrix rows of rules, filters, meters and the client
// configuration (see matrix_test.go): reading and changing them is for
// every member; the configuration is for owners and admins.

func init() {
	owners := []struct{ collection, short string }{{"credentials", "pc"}, {"proxies", "px"}, {"targets", "tg"}}
	for _, o := range owners {
		base := "/api/clients/{clientId}/" + o.collection + "/{" + ownerParam(o.collection) + "}"
		owner := ownerOf(o.short)
		ruleBody := obj{"effect": "deny", "pathPattern": "^/admin"}
		filterBody := obj{"filterAction": "destroy", "filterPaths": []string{"secret"}}
		matrix["GET "+base+"/rules"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.home() + "/" + o.collection + "/" + owner(c) + "/rules", nil
		}}
		matrix["POST "+base+"/rules"] = row{need: needWrite, ok: 201, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.home() + "/" + o.collection + "/" + owner(c) + "/rules", ruleBody
		}}
		matrix["GET "+base+"/rules/{ruleId}"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "rules", ruleBody, "rule", "ruleId"), nil
		}}
		matrix["PUT "+base+"/rules/{ruleId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "rules", ruleBody, "rule", "ruleId"), obj{"priority": 5}
		}}
		matrix["DELETE "+base+"/rules/{ruleId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "rules", ruleBody, "rule", "ruleId"), nil
		}}
		matrix["GET "+base+"/filters"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.home() + "/" + o.collection + "/" + owner(c) + "/filters", nil
		}}
		matrix["POST "+base+"/filters"] = row{need: needWrite, ok: 201, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.home() + "/" + o.collection + "/" + owner(c) + "/filters", filterBody
		}}
		matrix["GET "+base+"/filters/{filterId}"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "filters", filterBody, "filter", "filterId"), nil
		}}
		matrix["PUT "+base+"/filters/{filterId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "filters", filterBody, "filter", "filterId"), obj{"filterNotes": "x"}
		}}
		matrix["DELETE "+base+"/filters/{filterId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
			return c.nested(o.collection, owner(c), "filters", filterBody, "filter", "filterId"), nil
		}}
	}
	px := ownerOf("px")
	meterBody := obj{"meterName": "calls", "meterType": "request_count"}
	meters := "/api/clients/{clientId}/proxies/{proxyId}/meters"
	matrix["POST /api/clients/{clientId}/proxies/{proxyId}/rules/evaluate"] = row{need: needRead, ok: 200, scopes: resourceScopes,
		prep: func(c *matrixCase) (string, any) {
			return c.home() + "/proxies/" + px(c) + "/rules/evaluate", obj{"method": "GET", "path": "/v1/models"}
		}}
	matrix["GET "+meters] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + px(c) + "/meters", nil
	}}
	matrix["POST "+meters] = row{need: needWrite, ok: 201, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + px(c) + "/meters", meterBody
	}}
	matrix["GET "+meters+"/{meterId}"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.nested("proxies", px(c), "meters", meterBody, "meter", "meterId"), nil
	}}
	matrix["PUT "+meters+"/{meterId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.nested("proxies", px(c), "meters", meterBody, "meter", "meterId"), obj{"meterActive": false}
	}}
	matrix["DELETE "+meters+"/{meterId}"] = row{need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.nested("proxies", px(c), "meters", meterBody, "meter", "meterId"), nil
	}}
	matrix["GET "+meters+"/{meterId}/usage"] = row{need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.nested("proxies", px(c), "meters", meterBody, "meter", "meterId") + "/usage", nil
	}}
	matrix["PUT /api/clients/{clientId}/configuration"] = row{need: needManage, ok: 200, scopes: clientScopes,
		prep: withBody(clientPath("/configuration"), obj{"configuration": obj{"limits": obj{"requestsPerMinute": 60}}})}
}

func ownerParam(collection string) string {
	switch collection {
	case "credentials":
		return "credentialId"
	case "proxies":
		return "proxyId"
	}
	return "targetId"
}

// ownerOf picks one of the parts of the case's resource client.
func ownerOf(short string) func(c *matrixCase) string {
	return func(c *matrixCase) string {
		p := c.parts(c.res())
		switch short {
		case "pc":
			return p.pc
		case "px":
			return p.px
		}
		return p.tg
	}
}

// nested creates a rule, filter or meter on an owner of the case's
// resource client (as that client's owner) and returns its path under the
// case's home client.
func (c *matrixCase) nested(collection, ownerID, kind string, body obj, key, idField string) string {
	clientID := c.res()
	id := c.create(clientID, collection+"/"+ownerID+"/"+kind, body, key, idField)
	return c.home() + "/" + collection + "/" + ownerID + "/" + kind + "/" + id
}
