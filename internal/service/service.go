package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/throttle"
)

// Region is one entry of the server's region catalogue.
type Region struct {
	ID        string
	Name      string
	Latitude  float64
	Longitude float64
	// PublicURL is the data plane's base URL in this region, as callers reach it.
	PublicURL string
}

// URLChecker refuses URLs the egress policy would block (a literal IP in a
// blocked range); internal/egress.Policy implements it.
type URLChecker interface {
	CheckURL(raw string) error
}

// TestResult is the outcome of a target connection test.
type TestResult struct {
	// Status is the target's HTTP status (0 when no answer arrived).
	Status    int
	LatencyMs float64
	// Code is a data-plane code such as proxy-access-granted or target-unreachable.
	Code    string
	Message string
}

// Tester calls a target's test path with a target credential; the data
// plane implements it.
type Tester interface {
	TestTarget(ctx context.Context, t store.Target, c store.Credential) (TestResult, error)
}

// Deps are the collaborators of a Service. Store and Keyring are required;
// the others have defaults.
type Deps struct {
	Store   store.Store
	Keyring *seal.Keyring
	// Regions is the region catalogue; proxies, credentials and targets
	// must name one of them.
	Regions []Region
	// URLCheck refuses target URLs with blocked literal addresses when saved;
	// nil checks nothing (the dial-time guard still applies).
	URLCheck URLChecker
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Changed is called after every committed change to credentials,
	// targets, proxies or clients, so the local data plane is current
	// before the API answers. Its error is logged, not returned.
	Changed func(ctx context.Context) error
	// Tester runs target connection tests; nil answers 503.
	Tester Tester
	// OAuth2 runs authorization_code consent and code exchange; with
	// AdminPublicURL (where providers send the browser back) it enables
	// oauth2 authorization_code credentials.
	OAuth2         OAuth2Flow
	AdminPublicURL string
	// Async reads, cancels and replays async requests; nil answers 503 on
	// those routes.
	Async AsyncRequests
	// Mailer sends invite emails; nil sends none (the inviter shares the
	// link).
	Mailer Mailer
	// Password sets the argon2id cost of new password hashes (zero value:
	// DefaultPasswordParams).
	Password PasswordParams
	// Usage reads meter usage (the data plane's limits.Counter); nil
	// answers 503 on the usage route.
	Usage UsageReader
	// PasswordGate bounds the argon2id hashes and verifications running at
	// once (sign-in, password change, invite acceptance, user creation);
	// nil: DefaultPasswordGate.
	PasswordGate *throttle.Gate
}

// Service implements the domain operations. It is safe for concurrent use.
type Service struct {
	store    store.Store
	keys     *seal.Keyring
	regions  []Region
	check    URLChecker
	now      func() time.Time
	log      *slog.Logger
	changed  func(ctx context.Context) error
	tester   Tester
	pw       PasswordParams
	flow     OAuth2Flow
	adminURL string
	async    AsyncRequests
	usage    UsageReader
	mailer   Mailer
	// guard throttles guessing of current passwords.
	guard *throttle.Limiter
	// pwGate bounds concurrent argon2id work.
	pwGate *throttle.Gate
}

// New builds a Service from its dependencies.
func New(d Deps) *Service {
	s := &Service{
		store:    d.Store,
		keys:     d.Keyring,
		regions:  d.Regions,
		check:    d.URLCheck,
		now:      d.Now,
		log:      d.Logger,
		changed:  d.Changed,
		tester:   d.Tester,
		pw:       d.Password,
		flow:     d.OAuth2,
		adminURL: d.AdminPublicURL,
		async:    d.Async,
		usage:    d.Usage,
		mailer:   d.Mailer,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pw == (PasswordParams{}) {
		s.pw = DefaultPasswordParams
	}
	s.guard = throttle.New(throttle.Options{Now: s.now})
	s.pwGate = d.PasswordGate
	if s.pwGate == nil {
		s.pwGate = DefaultPasswordGate()
	}
	return s
}

// stamp is the current time as stored: UTC, millisecond precision.
func (s *Service) stamp() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// notify tells the data plane a change was committed. The change stands
// even when the refresh fails, so the error is only logged.
func (s *Service) notify(ctx context.Context, what string) {
	if s.changed == nil {
		return
	}
	if err := s.changed(ctx); err != nil {
		s.log.ErrorContext(ctx, "refreshing data plane after change", slog.String("change", what), slog.Any("error", err))
	}
}

// Regions returns the region catalogue.
func (s *Service) Regions() []Region {
	return append([]Region(nil), s.regions...)
}

func (s *Service) region(id string) (Region, bool) {
	for _, r := range s.regions {
		if r.ID == id {
			return r, true
		}
	}
	return Region{}, false
}
