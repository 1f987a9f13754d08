package kube

// The objects aku reads and writes, with only the fields it uses: JSON
// decoding skips the rest of what the API server sends.

// objectMeta is the part of metadata aku reads.
type objectMeta struct {
	Name            string            `json:"name,omitempty"`
	Namespace       string            `json:"namespace,omitempty"`
	UID             string            `json:"uid,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	OwnerReferences []ownerReference  `json:"ownerReferences,omitempty"`
	// DeletionTimestamp is set once the object is being deleted.
	DeletionTimestamp *string `json:"deletionTimestamp,omitempty"`
}

// ownerReference names an object's owner.
type ownerReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

// pod is a core/v1 Pod, as far as aku reads it.
type pod struct {
	Metadata objectMeta `json:"metadata"`
}

// statefulSet is an apps/v1 StatefulSet, as far as aku reads it.
type statefulSet struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		// Replicas is nil when the API server did not default it.
		Replicas *int32 `json:"replicas"`
		Ordinals *struct {
			Start int32 `json:"start"`
		} `json:"ordinals"`
	} `json:"spec"`
}

// event is an events.k8s.io/v1 Event, as aku creates it.
type event struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	// EventTime is in the API's MicroTime form (microTime).
	EventTime           string          `json:"eventTime"`
	Regarding           objectReference `json:"regarding"`
	Type                string          `json:"type"`
	Action              string          `json:"action"`
	Reason              string          `json:"reason"`
	Note                string          `json:"note"`
	ReportingController string          `json:"reportingController"`
	ReportingInstance   string          `json:"reportingInstance"`
}

// objectReference points an Event at the object it is about.
type objectReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
}

// microTime is the form of the API's MicroTime: RFC 3339 in UTC with
// microseconds.
const microTime = "2006-01-02T15:04:05.000000Z07:00"
