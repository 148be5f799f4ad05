package api

import "maps"

// Schema helpers: each returns a fresh map so callers may extend it.

func typ(t, desc string) obj {
	o := obj{"type": t}
	if desc != "" {
		o["description"] = desc
	}
	return o
}

func str(desc string) obj     { return typ("string", desc) }
func integer(desc string) obj { return typ("integer", desc) }
func boolean(desc string) obj { return typ("boolean", desc) }
func number(desc string) obj  { return typ("number", desc) }

func enum(desc string, vals ...string) obj {
	o := str(desc)
	o["enum"] = vals
	return o
}

func dateTime(desc string) obj {
	o := str(desc)
	o["format"] = "date-time"
	return o
}

// orNull lets a schema also be null (OpenAPI 3.1 type arrays).
func orNull(o obj) obj {
	c := maps.Clone(o)
	c["type"] = []any{o["type"], "null"}
	return c
}

func arrayOf(item obj) obj { return obj{"type": "array", "items": item} }

func strMap(desc string) obj {
	o := typ("object", desc)
	o["additionalProperties"] = obj{"type": "string"}
	return o
}

// object is a closed object with the given properties.
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// input is an input object: RequestRocket's common fields are accepted.
func input(required []string, props obj) obj {
	p := maps.Clone(props)
	for _, f := range []string{"clientId", "userId", "parentId"} {
		p[f] = str("accepted and ignored")
	}
	return object(required, p)
}

func listOf(key, item string) obj {
	return object([]string{key, "message"}, obj{key: arrayOf(ref(item)), "message": str("Success")})
}

func envelope(key, item string) obj {
	return object([]string{key, "message"}, obj{key: ref(item), "message": str("Success")})
}

func schemas() obj {
	s := obj{
		"Error": object([]string{"message", "code"}, obj{
			"message": str("what went wrong, for people"),
			"code":    str("machine-readable code: bad-request, unauthorized, forbidden, not-found, conflict, request-too-large, internal, …"),
			"fields":  arrayOf(ref("FieldError")),
		}),
		"FieldError":      object([]string{"field", "message"}, obj{"field": str("input field or query parameter"), "message": str("")}),
		"Success":         object([]string{"message"}, obj{"message": str("Success")}),
		"OpenAPIDocument": typ("object", "this document"),

		"Region": object(nil, obj{
			"regionId": str(""), "regionName": str(""), "regionLatitude": number(""), "regionLongitude": number(""),
			"regionBaseURL": str("public base URL of the data plane in this region"),
		}),
		"RegionList": listOf("regions", "Region"),

		"ClientConfiguration": object(nil, obj{
			"limits": object(nil, obj{
				"requestsPerMinute": integer("default proxyMaxRequestsPerMinute of new proxies (0 = unlimited)"),
				"requestsPerDay":    integer("default proxyMaxRequestsPerDay of new proxies (0 = unlimited)"),
			}),
			"allowedRegions": arrayOf(str("")),
		}),
		"Client": object(nil, obj{
			"clientId": str(""), "clientName": str(""), "clientConfiguration": ref("ClientConfiguration"),
			"clientCreatedAt": dateTime(""), "clientUpdatedAt": dateTime(""),
		}),
		"ClientList":     listOf("clients", "Client"),
		"ClientEnvelope": envelope("client", "Client"),

		"Membership": object(nil, obj{"clientId": str(""), "clientName": str(""), "roles": arrayOf(enum("", "owner", "admin", "user"))}),
		"User": object(nil, obj{
			"userId": str(""), "userName": str(""), "userInstanceAdmin": boolean(""),
			"userCreatedAt": dateTime(""), "userUpdatedAt": dateTime(""), "userClients": arrayOf(ref("Membership")),
		}),
		"UserEnvelope": envelope("user", "User"),

		"Token": object(nil, obj{
			"tokenId": str(""), "tokenName": str(""), "tokenHint": str("last four characters of the token"),
			"tokenCreatedAt": dateTime(""), "tokenLastUsedAt": orNull(dateTime("")), "tokenExpiresAt": orNull(dateTime("")),
			"token": str("the full u-… token; only in the create answer"),
		}),
		"TokenList":     listOf("tokens", "Token"),
		"TokenEnvelope": envelope("token", "Token"),
		"TokenInput": input([]string{"tokenName"}, obj{
			"tokenName": str("1–100 characters"), "tokenExpiresAt": orNull(dateTime("optional expiry, in the future")),
		}),

		"TargetTLS": object(nil, obj{"caPEM": str("PEM certificates to trust"), "serverName": str("TLS server name to verify")}),
		"TargetTestInput": input([]string{"credentialId"}, obj{
			"credentialId": str("a target credential of the same client and region"),
		}),
		"TargetTest": object(nil, obj{
			"status": integer("the target's HTTP status (0 when none)"), "latencyMs": number(""),
			"code": str("data-plane code, e.g. proxy-access-granted, target-unreachable"), "message": str(""),
		}),
		"TargetTestEnvelope": envelope("test", "TargetTest"),
	}
	maps.Copy(s, credentialSchemas())
	maps.Copy(s, targetSchemas())
	maps.Copy(s, proxySchemas())
	maps.Copy(s, teamsSchemas())
	maps.Copy(s, monitoringSchemas())
	maps.Copy(s, asyncSchemas())
	maps.Copy(s, policySchemas())
	return s
}

func credentialSchemas() obj {
	settings := obj{
		"credentialName":              str("1–200 characters"),
		"credentialType":              enum("immutable", "proxy", "target"),
		"credentialAuthType":          enum("immutable; key is an alias of apiKey", "apiKey", "key", "bearer", "jwt", "basicAuth", "jwtVerify", "oauth2", "customToken", "custom", "none"),
		"credentialRegion":            str("immutable; defaults to the only region when there is one"),
		"credentialSecret":            typ("object", "write-only settings of the auth type (readable settings are accepted here too)"),
		"credentialConfig":            typ("object", "readable settings of the auth type"),
		"credentialDefaultRuleEffect": enum("default allow", "allow", "deny"),
		"credentialExpiresAt":         orNull(dateTime("")),
	}
	cred := obj{
		"credentialId": str(""), "credentialTemporary": boolean("an OAuth2 authorization in progress"),
		"credentialPreviousSecretValidUntil": orNull(dateTime("until when a rotated-out proxy secret still works")),
		"credentialCreatedAt":                dateTime(""), "credentialUpdatedAt": dateTime(""),
	}
	for k, v := range settings {
		if k != "credentialSecret" {
			cred[k] = v
		}
	}
	created := maps.Clone(cred)
	created["generatedSecret"] = str("the key keyway generated; answered once")
	return obj{
		"Credential":           object(nil, cred),
		"CredentialList":       listOf("credentials", "Credential"),
		"CredentialEnvelope":   envelope("credential", "Credential"),
		"CredentialWithSecret": object(nil, created),
		"CredentialCreated": object([]string{"credential", "message"}, obj{
			"credential": ref("CredentialWithSecret"), "message": str("Success"),
			"generatedSecret":  str("the key keyway generated, when it did; answered once"),
			"authorizationURL": str("oauth2 authorization_code: where the user consents; the provider then redirects to {adminPublicURL}/oauth2/callback"),
		}),
		"CredentialInput":  input([]string{"credentialName", "credentialType", "credentialAuthType"}, settings),
		"CredentialUpdate": input(nil, settings),
		"CredentialRotate": input(nil, obj{
			"credentialSecret":   typ("object", "the new secret; an apiKey proxy credential (and a jwtVerify shared secret) gets a generated one when omitted; an oauth2 authorization_code credential without it is authorized again"),
			"gracePeriodSeconds": integer("proxy credentials: how long the old secret keeps working (0–2592000, default 0)"),
		}),
	}
}

func targetSchemas() obj {
	settings := obj{
		"targetName":               str("1–200 characters"),
		"targetBaseURL":            str("absolute http(s) URL without userinfo, query or fragment; a trailing / is removed"),
		"targetTestPath":           str("path called by the connection test (default /)"),
		"targetRegion":             str("immutable; defaults to the only region when there is one"),
		"targetDefaultRuleEffect":  enum("default allow", "allow", "deny"),
		"targetTimeoutSeconds":     integer("time to response headers, 1–600 (default 30)"),
		"targetIdleTimeoutSeconds": integer("time between body bytes, 1–3600 (default 60)"),
		"targetMaxResponseBytes":   integer("0 = no limit; at most 1 GiB (default 6 MiB)"),
		"targetHeaders":            orNull(strMap("extra headers sent upstream")),
		"targetTLS":                obj{"anyOf": []obj{ref("TargetTLS"), {"type": "null"}}},
	}
	t := maps.Clone(settings)
	t["targetId"], t["targetCreatedAt"], t["targetUpdatedAt"] = str(""), dateTime(""), dateTime("")
	t["targetHeaders"], t["targetTLS"] = strMap(""), ref("TargetTLS")
	return obj{
		"Target":         object(nil, t),
		"TargetList":     listOf("targets", "Target"),
		"TargetEnvelope": envelope("target", "Target"),
		"TargetInput":    input([]string{"targetName", "targetBaseURL"}, settings),
		"TargetUpdate":   input(nil, settings),
	}
}

func proxySchemas() obj {
	origins := arrayOf(str("scheme://host[:port]"))
	settings := obj{
		"proxyName":                       str("1–200 characters"),
		"proxyActive":                     boolean("default true"),
		"proxyRegion":                     str("immutable; defaults to the proxy credential's region"),
		"proxyProxyCredentialId":          str("a proxy credential of the client"),
		"proxyTargetId":                   str("a target of the client"),
		"proxyTargetCredentialId":         str("a target credential of the client"),
		"proxyDefaultRuleEffect":          enum("default allow", "allow", "deny"),
		"proxyMaxRequestsPerMinute":       orNull(integer("null or 0 = no limit; default from the client configuration")),
		"proxyMaxRequestsPerDay":          orNull(integer("null or 0 = no limit; default from the client configuration")),
		"proxyAsyncMaxRetries":            orNull(integer("0–100; null = server default")),
		"proxyAsyncRetryWindowSeconds":    orNull(integer("1–604800; null = server default")),
		"proxyAsyncAttemptTimeoutSeconds": orNull(integer("1–300; null = server default (30)")),
		"proxyAsyncCallbackOrigins":       orNull(origins),
		"proxyCorsOrigins":                orNull(arrayOf(str(`scheme://host[:port] or "*"`))),
		"proxyLogBodies":                  boolean("capture request and response bodies (size-limited, secrets removed) in the request log; default false"),
	}
	p := maps.Clone(settings)
	p["proxyId"], p["proxyCreatedAt"], p["proxyUpdatedAt"] = str(""), dateTime(""), dateTime("")
	p["proxyBaseURL"] = str("{region URL}/api/{proxyId}")
	p["proxyAsyncBaseURL"] = str("{region URL}/async/{proxyId}")
	p["proxyWebhookSecret"] = str("whsec_…; answered to owners and admins only")
	p["proxyMaxRequestsPerMinute"], p["proxyMaxRequestsPerDay"] = integer("0 = no limit"), integer("0 = no limit")
	p["proxyAsyncCallbackOrigins"], p["proxyCorsOrigins"] = origins, arrayOf(str(""))
	return obj{
		"Proxy":         object(nil, p),
		"ProxyList":     listOf("proxies", "Proxy"),
		"ProxyEnvelope": envelope("proxy", "Proxy"),
		"ProxyInput":    input([]string{"proxyName", "proxyProxyCredentialId", "proxyTargetId", "proxyTargetCredentialId"}, settings),
		"ProxyUpdate":   input(nil, settings),
	}
}
