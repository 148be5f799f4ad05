package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// SecretPrefix starts Standard Webhooks secrets.
const SecretPrefix = "whsec_"

// WebhookAAD binds a client's sealed webhook secret to the client.
func WebhookAAD(clientID string) string { return "client-webhook:" + clientID }

// Sign is the Standard Webhooks signature header value for a message:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
// where key is the base64 part of the whsec_ secret.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) {
		return "", errors.New("webhook secret is not a whsec_ secret")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", msgID, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Payload is the JSON a webhook receives.
type Payload struct {
	Type      string           `json:"type"`
	Timestamp string           `json:"timestamp"`
	Data      NotificationData `json:"data"`
}

// NotificationData is the notification inside a Payload.
type NotificationData struct {
	ID        string            `json:"notificationId"`
	Type      string            `json:"notificationType"`
	Kind      string            `json:"notificationKind"`
	Title     string            `json:"notificationTitle"`
	Message   string            `json:"notificationMessage"`
	Data      map[string]string `json:"notificationData"`
	CreatedAt string            `json:"notificationCreatedAt"`
	ClientID  string            `json:"clientId"`
}

// deliverDue sends every due delivery once.
func (d *Dispatcher) deliverDue(ctx context.Context) {
	if d.o.HTTP == nil {
		return
	}
	for {
		now := d.o.Now()
		due, err := d.o.Store.DeliveryClaim(ctx, now, now.Add(2*time.Minute), 20)
		if err != nil {
			d.log.Error("claiming webhook deliveries", slog.String("error", err.Error()))
			return
		}
		for _, dl := range due {
			d.deliver(ctx, dl)
		}
		if len(due) < 20 {
			return
		}
	}
}

// deliver sends one delivery and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, dl store.Delivery) {
	err := d.send(ctx, dl)
	dl.Attempts++
	result := "ok"
	switch {
	case err == nil:
		dl.Done, dl.LastError = true, ""
	case dl.Attempts > len(d.o.Retries):
		dl.Done, dl.LastError, result = true, err.Error(), "failed"
		d.log.Warn("webhook delivery given up", slog.String("client", dl.ClientID), slog.String("notification", dl.NotificationID),
			slog.Int("attempts", dl.Attempts), slog.String("error", err.Error()))
	default:
		dl.NextAttemptAt, dl.LastError, result = d.o.Now().Add(d.o.Retries[dl.Attempts-1]), err.Error(), "retry"
	}
	if d.o.Metrics != nil {
		d.o.Metrics.WebhookDelivered(result)
	}
	if err := d.o.Store.DeliveryUpdate(ctx, dl); err != nil {
		d.log.Error("recording webhook delivery", slog.String("error", err.Error()))
	}
}

// send POSTs the notification to the client's webhook, signed.
func (d *Dispatcher) send(ctx context.Context, dl store.Delivery) error {
	w, err := d.o.Store.WebhookGet(ctx, dl.ClientID)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	secret, err := d.o.Opener.Open(w.SecretSealed, WebhookAAD(w.ClientID))
	if err != nil {
		return errors.New("webhook secret cannot be opened")
	}
	n := dl.Notification
	now := d.o.Now()
	body, err := json.Marshal(Payload{Type: "notification.created", Timestamp: now.UTC().Format(time.RFC3339),
		Data: NotificationData{ID: n.ID, Type: n.Scope, Kind: n.Kind, Title: n.Title, Message: n.Message,
			Data: n.Data, CreatedAt: n.CreatedAt.UTC().Format(time.RFC3339Nano), ClientID: dl.ClientID}})
	if err != nil {
		return err
	}
	sig, err := Sign(string(secret), n.ID, now, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keyway-webhooks")
	req.Header.Set("webhook-id", n.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.o.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a token
		}
		return errors.New("webhook unreachable: " + err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
