package api

// monitoringSchemas are the component schemas of the request log,
// telemetry and notification routes.
func monitoringSchemas() obj {
	ms := func(desc string) obj { return orNull(number(desc)) }
	point := obj{
		"requests": integer(""), "status2xx": integer(""), "status4xx": integer(""), "status5xx": integer(""),
		"denied":  integer("answered proxy-access-denied"),
		"limited": integer("answered rate-limit-exceeded or meter-limit-exceeded"),
		"p50Ms":   ms("whole request, milliseconds; null without requests"), "p95Ms": ms(""), "p99Ms": ms(""),
		"overheadP50Ms": ms("keyway's time before forwarding"), "overheadP99Ms": ms(""),
		"upstreamP50Ms": ms("target's time to response headers"), "upstreamP99Ms": ms(""),
	}
	seriesPoint := obj{"time": dateTime("bucket start")}
	for k, v := range point {
		seriesPoint[k] = v
	}
	body := object(nil, obj{"body": str(""), "bodyEncoding": enum("", "utf8", "base64"), "truncated": boolean("")})
	return obj{
		"ProxyData": object(nil, obj{
			"method": str(""), "apiPath": str("target path, without /api/{proxyId}"),
			"receivedAt": integer("epoch milliseconds"), "sentAt": orNull(integer("epoch milliseconds; null when not forwarded")),
			"duration": number("seconds"), "status": integer("final HTTP status; absent while pending"),
			"code": str("requestrocket-proxy-code"), "message": str("requestrocket-proxy-message"),
			"apiHeaders": strMap("caller's headers, secrets redacted"), "apiParams": strMap("caller's query parameters, secrets redacted"),
			"overheadMs": number("keyway's time before forwarding"), "upstreamMs": orNull(number("target's time to response headers")),
			"ruleId": orNull(str("rule that decided the request")), "traceId": str("W3C trace id the target received"),
			"requestBody": body, "responseBody": body,
		}),
		"Request": object(nil, obj{
			"requestId": str(""), "proxyId": str(""), "processed": boolean("true once final"),
			"processedAt": orNull(dateTime("")), "proxyData": ref("ProxyData"),
			"state": str("async only"), "attempts": integer("async only"), "nextAttemptAt": orNull(dateTime("async only")),
			"history": arrayOf(typ("object", "")), "response": typ("object", "async only"),
		}),
		"RequestList": object([]string{"requests", "message", "totalRequests"}, obj{
			"requests": arrayOf(obj{"anyOf": []obj{ref("Request"), ref("AsyncRequest")}}), "message": str("Success"),
			"nextCursor":             str("pass as cursor for the next page; absent on the last page"),
			"totalRequests":          integer("requests matching the filters (all pages)"),
			"totalRequestsEstimated": boolean("true when totalRequests is not exact (over 10 000 matches): estimated from telemetry, or, when method or path is searched, a lower bound (10 001)"),
		}),
		"RequestEnvelope": envelope("request", "Request"),
		"RequestOrAsyncEnvelope": object([]string{"request", "message"}, obj{
			"request": obj{"anyOf": []obj{ref("AsyncRequest"), ref("Request")}}, "message": str("Success"),
		}),
		"TelemetryPoint":    object(nil, seriesPoint),
		"TelemetryTotals":   object(nil, point),
		"Telemetry":         object(nil, obj{"from": dateTime(""), "to": dateTime(""), "interval": enum("", "minute", "hour", "day"), "totals": ref("TelemetryTotals"), "series": arrayOf(ref("TelemetryPoint"))}),
		"TelemetryEnvelope": envelope("telemetry", "Telemetry"),
		"Notification": object(nil, obj{
			"notificationId": str(""), "notificationType": enum("", "system", "client", "user"),
			"notificationKind":  enum("", "rate-limit-reached", "meter-limit-reached", "async-request-dead", "oauth2-refresh-failed", "credential-expiring"),
			"notificationTitle": str(""), "notificationMessage": str(""), "notificationData": strMap("ids the notification is about"),
			"notificationRead": boolean(""), "notificationReadAt": orNull(dateTime("")), "notificationCreatedAt": dateTime(""),
			"clientId": str(""), "userId": str(""),
		}),
		"NotificationList": object([]string{"notifications", "message"}, obj{
			"notifications": arrayOf(ref("Notification")), "message": str("Success"), "nextCursor": str(""),
		}),
		"NotificationEnvelope": envelope("notification", "Notification"),
		"Webhook": object(nil, obj{
			"webhookURL": str(""), "webhookActive": boolean(""), "webhookSecret": str("whsec_…; verifies the webhook-signature header"),
			"webhookCreatedAt": dateTime(""), "webhookUpdatedAt": dateTime(""),
		}),
		"WebhookEnvelope": envelope("webhook", "Webhook"),
		"WebhookInput": input(nil, obj{
			"webhookURL": str("http(s) URL notifications are POSTed to (required the first time)"), "webhookActive": boolean("default true"),
			"rotateSecret": boolean("replace the signing secret"),
		}),
	}
}
