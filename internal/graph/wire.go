// Package graph is a thin Microsoft Graph v1.0 client for what license
// management needs: subscribed SKUs, users (paged and delta), a user's
// assigned licenses and assignLicense, with client-credentials tokens per
// customer tenant, retries of throttling, and errors by Graph's error.code.
//
// It is ours, on net/http, instead of msgraph-sdk-go: the generated SDK
// takes minutes to build for the five calls we make. Its wire types live
// in this file.
package graph

import "github.com/google/uuid"

// UserFields are the user properties we read ($select).
const UserFields = "id,displayName,userPrincipalName,usageLocation,assignedLicenses"

// User is a directory user as Graph returns it with UserFields.
type User struct {
	ID                uuid.UUID         `json:"id"`
	DisplayName       string            `json:"displayName"`
	UserPrincipalName string            `json:"userPrincipalName"`
	UsageLocation     *string           `json:"usageLocation"`
	AssignedLicenses  []AssignedLicense `json:"assignedLicenses"`
	// Removed is set on a delta entry for a deleted user.
	Removed *struct {
		Reason string `json:"reason"`
	} `json:"@removed,omitempty"`
}

// AssignedLicense is one license a user holds.
type AssignedLicense struct {
	SkuID         uuid.UUID   `json:"skuId"`
	DisabledPlans []uuid.UUID `json:"disabledPlans"`
}

// SubscribedSku is one of the organization's subscriptions.
type SubscribedSku struct {
	SkuID            uuid.UUID    `json:"skuId"`
	SkuPartNumber    string       `json:"skuPartNumber"`
	AppliesTo        string       `json:"appliesTo"`
	CapabilityStatus string       `json:"capabilityStatus"`
	ConsumedUnits    int32        `json:"consumedUnits"`
	PrepaidUnits     PrepaidUnits `json:"prepaidUnits"`
}

// PrepaidUnits are a subscription's units by state.
type PrepaidUnits struct {
	Enabled   int32 `json:"enabled"`
	Suspended int32 `json:"suspended"`
	Warning   int32 `json:"warning"`
	LockedOut int32 `json:"lockedOut"`
}

// AssignLicenseRequest is the body of POST /users/{id}/assignLicense; both
// arrays are required by Graph, empty or not.
type AssignLicenseRequest struct {
	AddLicenses    []AddLicense `json:"addLicenses"`
	RemoveLicenses []uuid.UUID  `json:"removeLicenses"`
}

// AddLicense is one license to add, with every service plan enabled.
type AddLicense struct {
	SkuID         uuid.UUID   `json:"skuId"`
	DisabledPlans []uuid.UUID `json:"disabledPlans"`
}

// page is one page of a collection.
type page[T any] struct {
	Value     []T    `json:"value"`
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
}

// errorBody is Graph's error envelope; code may be empty.
type errorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// Error codes we act on.
const (
	CodeBadRequest       = "Request_BadRequest"
	CodeResourceNotFound = "Request_ResourceNotFound"
	// CodeSyncStateNotFound answers a delta link that expired: start over.
	CodeSyncStateNotFound = "SyncStateNotFound"
	CodeResyncRequired    = "resyncRequired"
)
