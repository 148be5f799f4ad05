package api

import "maps"

// teamsSchemas are the component schemas of clients, members, invites,
// users and the audit log.
func teamsSchemas() obj {
	roles := arrayOf(enum("", "owner", "admin", "user"))
	invite := obj{
		"inviteId": str(""), "inviteEmail": str(""), "inviteName": str("suggested user name"), "inviteRoles": roles,
		"inviteState":     enum("", "pending", "accepted", "expired"),
		"inviteCreatedBy": str("the inviting user's id"), "inviteCreatedAt": dateTime(""), "expiresAt": dateTime(""),
		"inviteAcceptedAt": orNull(dateTime("")), "inviteAcceptedBy": str("the user who accepted"),
	}
	created := maps.Clone(invite)
	maps.Copy(created, obj{
		"inviteToken":        str("the one-time invite token (i-…); only in this answer"),
		"inviteURL":          str("the invite link on adminPublicURL; only in this answer"),
		"inviteEmailSent":    boolean("whether the link was emailed"),
		"inviteEmailProblem": str("why no email was sent, when an address was given"),
	})
	memberInput := input([]string{"userId", "roles"}, obj{"roles": roles})
	memberInput["properties"].(obj)["userId"] = str("the user to add (or whose roles to set)")
	return obj{
		"ClientInput": input(nil, obj{"clientName": str("1–200 characters")}),

		"Member":         object(nil, obj{"userId": str(""), "userName": str(""), "roles": roles, "memberCreatedAt": dateTime("")}),
		"MemberList":     listOf("members", "Member"),
		"MemberEnvelope": envelope("member", "Member"),
		"MemberInput":    memberInput,

		"Invite":     object(nil, invite),
		"InviteList": listOf("invites", "Invite"),
		"InviteInput": input([]string{"roles"}, obj{
			"email": str("whom to email the link (when SMTP is configured)"), "name": str("suggested user name"),
			"roles": roles, "expiresInHours": integer("1–720 (default 168)"),
		}),
		"InviteCreatedItem": object(nil, created),
		"InviteCreated":     envelope("invite", "InviteCreatedItem"),
		"InviteAccept": object(nil, obj{
			"userName": str("the new account's name (default: the invite's name); not with a user token"),
			"password": str("the new account's password, at least 8 characters; not with a user token"),
		}),
		"InviteAccepted": object([]string{"user", "message"}, obj{
			"user": ref("User"), "token": ref("Token"), "message": str("Success"),
		}),

		"UserSummary": object(nil, obj{
			"userId": str(""), "userName": str(""), "userInstanceAdmin": boolean(""),
			"userCreatedAt": dateTime(""), "userUpdatedAt": dateTime(""),
		}),
		"UserList": listOf("users", "UserSummary"),
		"UserInput": input([]string{"userName", "password"}, obj{
			"userName": str("1–100 characters, no spaces"), "password": str("at least 8 characters"),
			"userInstanceAdmin": boolean("may create users and clients"),
		}),
		"UserUpdate": input(nil, obj{
			"userName": str("1–100 characters, no spaces"), "password": str("the new password, at least 8 characters"),
			"currentPassword":   str("required when changing your own password"),
			"userInstanceAdmin": boolean("instance administrators only, on other users"),
			"revokeTokens":      boolean("with password: also revoke the user's API tokens (except the one making the request)"),
		}),

		"AuditChange": object([]string{"field"}, obj{
			"field": str("the field's Core API name"), "old": obj{"description": "the value before (absent when unset)"},
			"new": obj{"description": "the value after (absent when unset)"}, "redacted": boolean("a secret changed; no value is kept"),
		}),
		"AuditEntry": object(nil, obj{
			"auditId": str(""), "clientId": str("absent in the instance log"), "auditCreatedAt": dateTime(""),
			"auditActorId": str("the user who made the change"), "auditActorName": str("their name at the time"),
			"auditTokenId": str("the token used (absent for the dashboard)"), "auditVia": enum("", "api", "dashboard", "system"),
			"auditRemoteAddr": str(""), "auditRequestId": str("the X-Request-Id of the change"),
			"auditAction":       str("created, updated, deleted, rotated, added, removed, accepted, revoked, password-changed, …"),
			"auditResourceType": str(""), "auditResourceId": str(""), "auditResourceName": str(""),
			"auditChanges": arrayOf(ref("AuditChange")),
		}),
		"AuditList": object([]string{"audit", "message"}, obj{
			"audit": arrayOf(ref("AuditEntry")), "message": str("Success"),
			"nextCursor": str("pass as cursor for older entries; absent on the last page"),
		}),
	}
}
