// Package graphfake is an in-process Microsoft Graph for tests and the
// demo sandbox. It follows the documented contract of the calls
// internal/graph makes — token endpoint (client credentials, checking the
// secret), /subscribedSkus, /users (paged with @odata.nextLink), /users/delta
// (deltaLink, expiry), /users/{id}, assignLicense (all or nothing, seats,
// usage location, unknown user), PATCH /users/{id} — and lets a test inject
// throttling and failures. Error bodies and codes are those observed from
// Graph (see shared/GRAPH.md).
package graphfake

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// SKU is a subscription of a fake tenant.
type SKU struct {
	ID            uuid.UUID
	PartNumber    string
	AppliesTo     string // User (default) or Company
	Enabled       int32
	Warning       int32
	Suspended     int32
	LockedOut     int32
	ExtraConsumed int32 // consumed by principals the fake does not list
	// ExcludesWith are SKUs that cannot be held together with this one
	// (conflicting service plans).
	ExcludesWith []uuid.UUID
}

// User is a user of a fake tenant.
type User struct {
	ID                uuid.UUID
	DisplayName       string
	UserPrincipalName string
	UsageLocation     string
	SKUs              []uuid.UUID
}

// Tenant is one customer's Microsoft 365 tenant.
type Tenant struct {
	ID           uuid.UUID
	ClientID     string
	ClientSecret string
	SKUs         []SKU
	Users        []User
}

// Fault is an injected answer to the next matching calls.
type Fault struct {
	// Op is "token", "subscribedSkus", "listUsers", "usersDelta", "getUser",
	// "assignLicense" or "updateUser"; empty matches every Graph call.
	Op         string
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds; 0 sends no header
	// Times is how many calls it answers (default 1).
	Times int
}

type tenantState struct {
	Tenant
	users   map[uuid.UUID]*userState
	order   []uuid.UUID
	version int
	// deltaFloor: delta tokens below it are expired.
	deltaFloor int
	deleted    map[uuid.UUID]int // user id → version of deletion
}

type userState struct {
	User
	version int
}

// Server is the fake Graph and its token endpoint.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	tenants  map[uuid.UUID]*tenantState
	faults   []*Fault
	calls    map[string]int
	bodies   []string // assignLicense bodies, in order
	PageSize int
	// Requests records the client-request-id of every Graph call.
	clientRequestIDs []string
	tokens           map[string]uuid.UUID // access token → tenant
	// onAssign runs (without the lock) before an assignLicense is applied.
	onAssign func()
}

// Start serves a fake Graph on 127.0.0.1 until Close. Graph's base URL is
// URL()+"/v1.0", the login URL is URL().
func Start(tenants ...Tenant) *Server {
	s := &Server{tenants: map[uuid.UUID]*tenantState{}, calls: map[string]int{}, tokens: map[string]uuid.UUID{}, PageSize: 100}
	for _, t := range tenants {
		s.AddTenant(t)
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.Server.Listener = l
	s.Server.Start()
	return s
}

// GraphURL is the base to give LICENSES_GRAPH_URL.
func (s *Server) GraphURL() string { return s.URL + "/v1.0" }

// LoginURL is the base to give LICENSES_GRAPH_LOGIN_URL.
func (s *Server) LoginURL() string { return s.URL }

// AddTenant adds (or replaces) a tenant.
func (s *Server) AddTenant(t Tenant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := &tenantState{Tenant: t, users: map[uuid.UUID]*userState{}, deleted: map[uuid.UUID]int{}}
	for _, u := range t.Users {
		ts.version++
		ts.users[u.ID] = &userState{User: u, version: ts.version}
		ts.order = append(ts.order, u.ID)
	}
	s.tenants[t.ID] = ts
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults drops the faults not yet answered.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// OnAssign runs f before each assignLicense is applied (a test takes the
// last seat from under a request this way).
func (s *Server) OnAssign(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAssign = f
}

// Calls is how many calls of the operation were answered.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// AssignBodies are the bodies of every assignLicense call, in order.
func (s *Server) AssignBodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// ClientRequestIDs are the client-request-id headers of every Graph call.
func (s *Server) ClientRequestIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.clientRequestIDs...)
}

// UserSKUs is what the tenant holds for the user.
func (s *Server) UserSKUs(tenant, user uuid.UUID) ([]uuid.UUID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.tenants[tenant].users[user]
	if !ok {
		return nil, false
	}
	return append([]uuid.UUID(nil), u.SKUs...), true
}

// UsageLocation is the user's usage location.
func (s *Server) UsageLocation(tenant, user uuid.UUID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.tenants[tenant].users[user]; ok {
		return u.UsageLocation
	}
	return ""
}

// SetUserSKUs changes a user's licenses behind our back (another admin).
func (s *Server) SetUserSKUs(tenant, user uuid.UUID, skus []uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	t.version++
	u := t.users[user]
	u.SKUs, u.version = skus, t.version
}

// AddUser adds a user (it appears in the next delta).
func (s *Server) AddUser(tenant uuid.UUID, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	t.version++
	t.users[u.ID] = &userState{User: u, version: t.version}
	t.order = append(t.order, u.ID)
}

// DeleteUser removes a user (a delta reports it @removed).
func (s *Server) DeleteUser(tenant, user uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	t.version++
	delete(t.users, user)
	t.deleted[user] = t.version
	for i, id := range t.order {
		if id == user {
			t.order = append(t.order[:i], t.order[i+1:]...)
			break
		}
	}
}

// ExpireDeltaLinks makes every delta link issued so far expired.
func (s *Server) ExpireDeltaLinks(tenant uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	t.version++
	t.deltaFloor = t.version
}

func (s *Server) fault(op string) *Fault {
	for i, f := range s.faults {
		if f.Op == "" && op != "token" || f.Op == op {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string, retryAfter int) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"request-id": w.Header().Get("request-id"), "date": "2026-12-03T00:00:00"}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.token(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		writeError(w, 404, "Request_ResourceNotFound", "Unknown path.", 0)
		return
	}
	s.mu.Lock()
	tid, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		s.mu.Unlock()
		writeError(w, 401, "InvalidAuthenticationToken", "Access token is empty or invalid.", 0)
		return
	}
	t := s.tenants[tid]
	s.clientRequestIDs = append(s.clientRequestIDs, r.Header.Get("client-request-id"))
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	op := operation(r.Method, path)
	if f := s.fault(op); f != nil {
		s.calls[op]++
		s.mu.Unlock()
		writeError(w, f.Status, f.Code, f.Message, f.RetryAfter)
		return
	}
	s.calls[op]++
	if op == "assignLicense" && s.onAssign != nil {
		hook := s.onAssign
		s.mu.Unlock()
		hook()
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch op {
	case "subscribedSkus":
		writeJSON(w, map[string]any{"value": t.skus()})
	case "listUsers":
		s.listUsers(w, r, t)
	case "usersDelta":
		s.delta(w, r, t)
	case "getUser", "updateUser", "assignLicense":
		id, _ := uuid.Parse(strings.Split(strings.TrimPrefix(path, "/users/"), "/")[0])
		u, ok := t.users[id]
		if !ok {
			writeError(w, 404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id), 0)
			return
		}
		switch op {
		case "getUser":
			writeJSON(w, u.wire())
		case "updateUser":
			var body struct {
				UsageLocation *string `json:"usageLocation"`
			}
			if json.NewDecoder(r.Body).Decode(&body) != nil || body.UsageLocation == nil {
				writeError(w, 400, "Request_BadRequest", "Invalid request.", 0)
				return
			}
			t.version++
			u.UsageLocation, u.version = *body.UsageLocation, t.version
			w.WriteHeader(http.StatusNoContent)
		case "assignLicense":
			s.assign(w, r, t, u)
		}
	default:
		writeError(w, 400, "Request_BadRequest", "Unsupported call.", 0)
	}
}

func operation(method, path string) string {
	switch {
	case method == "GET" && path == "/subscribedSkus":
		return "subscribedSkus"
	case method == "GET" && path == "/users":
		return "listUsers"
	case method == "GET" && path == "/users/delta":
		return "usersDelta"
	case method == "POST" && strings.HasSuffix(path, "/assignLicense"):
		return "assignLicense"
	case method == "GET" && strings.HasPrefix(path, "/users/"):
		return "getUser"
	case method == "PATCH" && strings.HasPrefix(path, "/users/"):
		return "updateUser"
	}
	return "unknown"
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["token"]++
	if f := s.fault("token"); f != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		json.NewEncoder(w).Encode(map[string]string{"error": f.Code, "error_description": f.Message})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	tid, err := uuid.Parse(parts[0])
	t, ok := s.tenants[tid]
	_ = r.ParseForm()
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	switch {
	case err != nil || !ok:
		fail("invalid_request", "AADSTS90002: Tenant not found.")
	case r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "https://graph.microsoft.com/.default":
		fail("invalid_request", "AADSTS900144: bad grant or scope.")
	case r.PostForm.Get("client_id") != t.ClientID:
		fail("unauthorized_client", "AADSTS700016: Application not found in the directory (not consented).")
	case r.PostForm.Get("client_secret") != t.ClientSecret:
		fail("invalid_client", "AADSTS7000215: Invalid client secret provided.")
	default:
		tok := uuid.NewString()
		s.tokens[tok] = tid
		writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": tok})
	}
}

func (t *tenantState) consumed(sku uuid.UUID) int32 {
	var n int32
	for _, u := range t.users {
		for _, s := range u.SKUs {
			if s == sku {
				n++
			}
		}
	}
	return n
}

func (t *tenantState) skus() []map[string]any {
	out := []map[string]any{}
	for _, s := range t.SKUs {
		applies := s.AppliesTo
		if applies == "" {
			applies = "User"
		}
		out = append(out, map[string]any{"skuId": s.ID, "skuPartNumber": s.PartNumber, "appliesTo": applies,
			"capabilityStatus": "Enabled", "consumedUnits": t.consumed(s.ID) + s.ExtraConsumed,
			"prepaidUnits": map[string]int32{"enabled": s.Enabled, "warning": s.Warning, "suspended": s.Suspended, "lockedOut": s.LockedOut}})
	}
	return out
}

func (u *userState) wire() map[string]any {
	lic := []map[string]any{}
	for _, s := range u.SKUs {
		lic = append(lic, map[string]any{"skuId": s, "disabledPlans": []string{}})
	}
	var loc any
	if u.UsageLocation != "" {
		loc = u.UsageLocation
	}
	return map[string]any{"id": u.ID, "displayName": u.DisplayName, "userPrincipalName": u.UserPrincipalName,
		"usageLocation": loc, "assignedLicenses": lic}
}

func (s *Server) base(r *http.Request) string { return "http://" + r.Host + "/v1.0" }

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, t *tenantState) {
	skip, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	size := s.PageSize
	if top, err := strconv.Atoi(r.URL.Query().Get("$top")); err == nil && top < size {
		size = top
	}
	ids := append([]uuid.UUID(nil), t.order...)
	out := []map[string]any{}
	for i := skip; i < len(ids) && len(out) < size; i++ {
		out = append(out, t.users[ids[i]].wire())
	}
	body := map[string]any{"value": out}
	if skip+size < len(ids) {
		body["@odata.nextLink"] = fmt.Sprintf("%s/users?$select=%s&$top=%d&$skiptoken=%d", s.base(r), r.URL.Query().Get("$select"), size, skip+size)
	}
	writeJSON(w, body)
}

// delta: without a token, every user (paged), then a deltaLink at the
// current version; with deltatoken=V, users changed after V and users
// deleted after V (@removed).
func (s *Server) delta(w http.ResponseWriter, r *http.Request, t *tenantState) {
	q := r.URL.Query()
	since := -1
	if v := q.Get("$deltatoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < t.deltaFloor {
			writeError(w, http.StatusGone, "SyncStateNotFound", "The sync state generation is not found.", 0)
			return
		}
		since = n
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	var changed []map[string]any
	ids := append([]uuid.UUID(nil), t.order...)
	for _, id := range ids {
		if u := t.users[id]; since < 0 || u.version > since {
			changed = append(changed, u.wire())
		}
	}
	if since >= 0 {
		var gone []uuid.UUID
		for id, v := range t.deleted {
			if v > since {
				gone = append(gone, id)
			}
		}
		sort.Slice(gone, func(i, j int) bool { return gone[i].String() < gone[j].String() })
		for _, id := range gone {
			changed = append(changed, map[string]any{"id": id, "@removed": map[string]string{"reason": "changed"}})
		}
	}
	end := min(skip+s.PageSize, len(changed))
	body := map[string]any{"value": changed[skip:end]}
	if end < len(changed) {
		body["@odata.nextLink"] = fmt.Sprintf("%s/users/delta?$deltatoken=%s&$skiptoken=%d", s.base(r), q.Get("$deltatoken"), end)
	} else {
		body["@odata.deltaLink"] = fmt.Sprintf("%s/users/delta?$deltatoken=%d", s.base(r), t.version)
	}
	writeJSON(w, body)
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, t *tenantState, u *userState) {
	var raw json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		writeError(w, 400, "Request_BadRequest", "Invalid request body.", 0)
		return
	}
	s.bodies = append(s.bodies, string(raw))
	var body struct {
		AddLicenses *[]struct {
			SkuID         uuid.UUID    `json:"skuId"`
			DisabledPlans *[]uuid.UUID `json:"disabledPlans"`
		} `json:"addLicenses"`
		RemoveLicenses *[]uuid.UUID `json:"removeLicenses"`
	}
	if json.Unmarshal(raw, &body) != nil || body.AddLicenses == nil || body.RemoveLicenses == nil {
		writeError(w, 400, "Request_BadRequest", "Both addLicenses and removeLicenses are required.", 0)
		return
	}
	skus := map[uuid.UUID]SKU{}
	for _, s := range t.SKUs {
		skus[s.ID] = s
	}
	held := map[uuid.UUID]bool{}
	for _, s := range u.SKUs {
		held[s] = true
	}
	for _, rm := range *body.RemoveLicenses {
		if _, ok := skus[rm]; !ok {
			writeError(w, 400, "Request_BadRequest", fmt.Sprintf("License %s does not correspond to a valid company License.", rm), 0)
			return
		}
		delete(held, rm)
	}
	if len(*body.AddLicenses) > 0 && u.UsageLocation == "" {
		writeError(w, 400, "Request_BadRequest", "License assignment cannot be done for user with invalid usage location.", 0)
		return
	}
	for _, a := range *body.AddLicenses {
		sku, ok := skus[a.SkuID]
		if !ok || strings.EqualFold(sku.AppliesTo, "Company") {
			writeError(w, 400, "Request_BadRequest", fmt.Sprintf("License %s does not correspond to a valid company License.", a.SkuID), 0)
			return
		}
		if !held[a.SkuID] && t.consumed(a.SkuID)+sku.ExtraConsumed >= sku.Enabled+sku.Warning {
			writeError(w, 400, "Request_BadRequest", fmt.Sprintf("Subscription with SKU %s does not have any available licenses.", a.SkuID), 0)
			return
		}
		held[a.SkuID] = true
	}
	for h := range held {
		for _, x := range skus[h].ExcludesWith {
			if held[x] {
				writeError(w, 400, "Request_BadRequest", fmt.Sprintf("Conflicting service plans: %s and %s cannot be assigned together.", h, x), 0)
				return
			}
		}
	}
	var next []uuid.UUID
	for _, s := range t.SKUs { // Graph's order is its own; ours is the tenant's
		if held[s.ID] {
			next = append(next, s.ID)
		}
	}
	t.version++
	u.SKUs, u.version = next, t.version
	writeJSON(w, u.wire())
}
