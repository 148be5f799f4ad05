package api

import "maps"

func policySchemas() obj {
	presence := enum(`default "present"`, "present", "absent")
	check := object([]string{"namePattern"}, obj{
		"namePattern":  str("RE2 pattern for the header (case-insensitive) or query parameter name"),
		"valuePattern": str("RE2 pattern one of the values must match; absent = any value"),
		"presence":     presence,
	})
	bodyCheck := object([]string{"path"}, obj{
		"path":         str("dot path into the JSON request body (`a.b`, `items[].id`, `*`)"),
		"valuePattern": str("RE2 pattern for the value's text (a string's content; true, 42, null as written)"),
		"presence":     presence,
	})
	ruleSettings := obj{
		"effect":       enum("required on create", "allow", "deny"),
		"priority":     integer("0–1000, higher first (default 0); decides which matching rule is reported"),
		"methods":      orNull(arrayOf(str("HTTP method; empty = any"))),
		"pathPattern":  orNull(str("RE2 pattern for the target path after /api/{proxyId}, as forwarded (unanchored: use ^ and $)")),
		"pathPresence": orNull(enum(`"absent" inverts pathPattern`, "present", "absent")),
		"path": orNull(object(nil, obj{
			"pattern": str("same as pathPattern"), "presence": enum("same as pathPresence", "present", "absent"),
		})),
		"headerChecks": orNull(arrayOf(check)),
		"queryChecks":  orNull(arrayOf(check)),
		"bodyChecks":   orNull(arrayOf(bodyCheck)),
		"regexFlags":   orNull(str("any of i, m, s (g is ignored), applied to all patterns of the rule")),
		"notes":        orNull(str("free text, at most 2000 characters")),
	}
	rule := maps.Clone(ruleSettings)
	delete(rule, "path")
	rule["methods"], rule["pathPattern"], rule["pathPresence"] = arrayOf(str("")), str(""), str(`"present", "absent" or "" without a pathPattern`)
	rule["headerChecks"], rule["queryChecks"], rule["bodyChecks"] = arrayOf(check), arrayOf(check), arrayOf(bodyCheck)
	rule["regexFlags"], rule["notes"] = str(""), str("")
	rule["ruleId"], rule["ruleOwnerId"] = str(""), str("the credential, proxy or target the rule is attached to")
	rule["ruleScope"] = enum("", "proxyCredential", "targetCredential", "proxy", "target")
	rule["ruleCreatedAt"], rule["ruleUpdatedAt"] = dateTime(""), dateTime("")

	filterSettings := obj{
		"filterAction": enum("required on create", "retain", "destroy"),
		"filterPaths":  arrayOf(str("dot path: `a.b`, `items[].id`, `*.secret`; \\ escapes . * [ ] \\")),
		"filterNotes":  orNull(str("free text")),
	}
	filter := maps.Clone(filterSettings)
	filter["filterNotes"] = str("")
	filter["filterId"], filter["filterOwnerId"] = str(""), str("")
	filter["filterScope"] = enum("", "proxyCredential", "targetCredential", "proxy", "target")
	filter["filterCreatedAt"], filter["filterUpdatedAt"] = dateTime(""), dateTime("")

	predicate := object([]string{"location"}, obj{
		"location":     enum("", "body", "header", "query", "path", "method"),
		"path":         str("dot path (location body)"),
		"name":         str("header or query parameter name (locations header, query)"),
		"valuePattern": str("RE2 pattern; required for path and method, else absent = the value is present"),
		"effect":       enum(`default "include"`, "include", "exclude"),
	})
	limit := object([]string{"window", "limit"}, obj{
		"window": enum("fixed, aligned to UTC", "minute", "hour", "day", "month"),
		"limit":  number("positive; a whole number for request_count"),
	})
	extraction := object([]string{"location"}, obj{
		"location": enum("", "body", "header"),
		"path":     str("dot path into the JSON answer, e.g. usage.total_tokens (location body)"),
		"name":     str("header name (location header)"),
	})
	meterSettings := obj{
		"meterName":   str("1–200 characters (default: the meter type)"),
		"meterType":   enum("required on create", "request_count", "response_value"),
		"meterActive": boolean("default true"),
		"meterMode":   enum(`default "all"`, "all", "conditional"),
		"predicates":  orNull(arrayOf(predicate)),
		"limits":      orNull(arrayOf(limit)),
		"extraction":  obj{"anyOf": []obj{extraction, {"type": "null"}}, "description": "response_value only"},
	}
	meter := maps.Clone(meterSettings)
	meter["predicates"], meter["limits"] = arrayOf(predicate), arrayOf(limit)
	meter["meterId"], meter["meterProxyId"] = str(""), str("")
	meter["meterCreatedAt"], meter["meterUpdatedAt"] = dateTime(""), dateTime("")

	stringOrStrings := obj{"anyOf": []obj{str(""), arrayOf(str(""))}}
	verdict := object(nil, obj{
		"scope":         enum("", "proxyCredential", "targetCredential", "proxy", "target"),
		"decision":      enum("", "allow", "deny"),
		"ruleId":        str("the deciding rule; absent when the default decided"),
		"default":       boolean("true when no rule matched and the scope's default effect decided"),
		"defaultEffect": enum("the scope's default effect", "allow", "deny"),
	})
	return obj{
		"Rule":         object(nil, rule),
		"RuleList":     listOf("rules", "Rule"),
		"RuleEnvelope": envelope("rule", "Rule"),
		"RuleInput":    input([]string{"effect"}, ruleSettings),
		"RuleUpdate":   input(nil, ruleSettings),
		"RuleEvaluateInput": input([]string{"method", "path"}, obj{
			"method":  str("HTTP method"),
			"path":    str("target path after /api/{proxyId}, starting with /; may end with ?query"),
			"headers": obj{"type": "object", "additionalProperties": stringOrStrings},
			"query":   obj{"anyOf": []obj{str("raw query string"), {"type": "object", "additionalProperties": stringOrStrings}}},
			"body":    obj{"description": "the request body: a string is the raw text, any other JSON value is the JSON body"},
		}),
		"RuleEvaluation": object(nil, obj{
			"decision": enum("allow only when every scope allows", "allow", "deny"),
			"scopes":   arrayOf(verdict),
		}),
		"RuleEvaluationEnvelope": envelope("evaluation", "RuleEvaluation"),

		"Filter":         object(nil, filter),
		"FilterList":     listOf("filters", "Filter"),
		"FilterEnvelope": envelope("filter", "Filter"),
		"FilterInput":    input([]string{"filterAction", "filterPaths"}, filterSettings),
		"FilterUpdate":   input(nil, filterSettings),

		"Meter":         object(nil, meter),
		"MeterList":     listOf("meters", "Meter"),
		"MeterEnvelope": envelope("meter", "Meter"),
		"MeterInput":    input([]string{"meterType"}, meterSettings),
		"MeterUpdate":   input(nil, meterSettings),
		"MeterUsage": object([]string{"usage", "message"}, obj{
			"usage": arrayOf(object(nil, obj{
				"window": enum("", "minute", "hour", "day", "month"), "used": number(""),
				"limit": orNull(number("")), "resetsAt": dateTime("end of the current window"),
			})),
			"message": str("Success"),
		}),
		"ClientConfigurationInput": input([]string{"configuration"}, obj{
			"configuration": object(nil, obj{
				"limits": object(nil, obj{
					"requestsPerMinute": orNull(integer("default proxyMaxRequestsPerMinute of new proxies; null or 0 = unlimited")),
					"requestsPerDay":    orNull(integer("default proxyMaxRequestsPerDay of new proxies; null or 0 = unlimited")),
				}),
				"allowedRegions": orNull(arrayOf(str("region id; empty = all"))),
			}),
		}),
	}
}
