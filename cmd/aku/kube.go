package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/podlife/kube"
)

// kubeRun is one aku -p run's use of the Kubernetes API
// (docs/behaviour.md, "Kubernetes"): before an end of a slave with
// AKU_REPLICATION_RESET_AT_END = 2 it asks whether the pod leaves for
// good; with AKU_KUBERNETES_PUBLISH = 1 it labels the pod and records an
// Event for the start's or end's outcome. A run that needs none of it has
// no kubeRun (nil), and builds no client.
//
// Everything it does is bounded by the client's timeout, and a failure
// never fails the run: the first one is the run's one warning about
// Kubernetes (when the leaving question failed, the plan's warning is
// that one), the others are logged at DEBUG.
type kubeRun struct {
	in podlife.Input
	// client is nil without in-cluster credentials; noClient says why.
	client   *kube.Client
	noClient error
	// ask: this run asks whether the pod leaves; publish: it labels the
	// pod and records Events.
	ask, publish bool
	// ready is the post-start check the synced label reports (aku probe
	// ready's verdict).
	ready  func(context.Context) health.Verdict
	log    *slog.Logger
	warned bool
}

// kubeFor returns the Kubernetes work of a run with this input, or nil
// when it has none (the original's behaviour, not a request sent).
func (o *options) kubeFor(in podlife.Input) *kubeRun {
	cfg := in.Config
	ask := in.Action == podlife.ActionEnd && !in.Identity.IsMaster() && cfg.ResetOnlyWhenLeaving
	// Labels and Events are about starts and ends (docs/behaviour.md,
	// "Events"): a clean or a release publishes nothing.
	publish := cfg.KubernetesPublish && !in.DryRun && (in.Action == podlife.ActionStart || in.Action == podlife.ActionEnd)
	if !ask && !publish {
		return nil
	}
	k := &kubeRun{in: in, ask: ask, publish: publish, log: in.Logger}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	k.client, k.noClient = o.kubeClient(in.Identity)
	k.ready = func(ctx context.Context) health.Verdict {
		hin := health.Input{Config: cfg, Identity: in.Identity, MarkerPath: in.MarkerPath, Resolver: o.resolver}
		d, err := o.monitorDialer(cfg)
		if err != nil {
			return health.Verdict{Line: "not ready: " + err.Error()}
		}
		hin.Dialer = d
		return health.Ready(ctx, hin, -1)
	}
	return k
}

// kubeClient is the client of the in-cluster credentials for this pod;
// kube.ErrNoCredentials without them. It sends nothing.
func (o *options) kubeClient(id podlife.Identity) (*kube.Client, error) {
	return kube.New(kube.Config{
		Host: o.env.KubernetesHost, Port: o.env.KubernetesPort, SecretDir: o.env.ServiceAccountDir, PodName: id.PodName,
	})
}

// syncedPublisher is aku run's Synced hook with AKU_KUBERNETES_PUBLISH =
// 1: it labels this pod (aku/role and aku/synced) through one client
// for the whole run, asking again an API server that did not answer
// before (kube.Client.Reset); nil without the property.
func (o *options) syncedPublisher(cfg *conf.Config, id podlife.Identity) func(context.Context, bool) error {
	if !cfg.KubernetesPublish {
		return nil
	}
	client, err := o.kubeClient(id)
	return func(ctx context.Context, synced bool) error {
		if err != nil {
			return err
		}
		client.Reset()
		return client.Label(ctx, kube.RoleOf(id), synced)
	}
}

// leaving is the verdict the run's end decides its reset on.
func (k *kubeRun) leaving(ctx context.Context) podlife.Leaving {
	if k == nil || !k.ask {
		return podlife.Leaving{}
	}
	var l podlife.Leaving
	if k.client == nil {
		l = kube.Decide(k.in.Identity.Ordinal, kube.Set{}, k.noClient)
	} else {
		l = k.client.Leaving(ctx, k.in.Identity.Ordinal)
	}
	// An unknown verdict is the plan's warning: the run's one about
	// Kubernetes.
	k.warned = l.Verdict == podlife.VerdictUnknown
	return l
}

// beforeRun marks an ending pod as no longer synced, so the Services that
// select aku/synced=true stop sending it traffic before its replication
// stops.
func (k *kubeRun) beforeRun(ctx context.Context) {
	if k == nil || !k.publish || k.in.Action != podlife.ActionEnd {
		return
	}
	k.label(ctx, false)
}

// afterRun publishes the run's outcome: the labels after a start (synced
// when the start completed and aku probe ready passes), and an Event for
// the start or end. It runs also when a signal cancelled the run, within
// the client's own timeouts.
func (k *kubeRun) afterRun(ctx context.Context, plan *podlife.Plan, runErr error) {
	if k == nil || !k.publish {
		return
	}
	ctx = context.WithoutCancel(ctx)
	name := string(k.in.Action)
	action := strings.ToUpper(name[:1]) + name[1:]
	ev := kube.Event{Action: action}
	switch {
	case runErr != nil:
		code := exitCode(runErr)
		ev.Warning, ev.Reason = true, action+"Failed"
		ev.Note = fmt.Sprintf("aku -p %s failed with exit code %d (%s): %s", k.in.Action, code, exitName(code), firstLine(runErr.Error()))
	default:
		ev.Reason = map[podlife.Action]string{podlife.ActionStart: "Started", podlife.ActionEnd: "Ended"}[k.in.Action]
		ev.Note = fmt.Sprintf("aku -p %s completed (%s)", k.in.Action, pathOf(plan))
		if plan != nil && plan.Leaving != "" {
			ev.Note += ": " + plan.Why
		}
	}
	if k.in.Action == podlife.ActionStart {
		synced := false
		// A duplicate start found the marker of one that completed: the
		// pod is as synced as it is now.
		if runErr == nil || errors.Is(runErr, podlife.ErrDuplicateStart) {
			v := k.ready(ctx)
			synced = v.OK
			ev.Note += "; " + v.Line
		}
		k.label(ctx, synced)
	}
	if k.client == nil {
		return // label said why, once
	}
	if err := k.client.Event(ctx, ev); err != nil {
		k.failed(err)
	}
}

// label sets this pod's role and synced labels.
func (k *kubeRun) label(ctx context.Context, synced bool) {
	if k.client == nil {
		k.failed(k.noClient)
		return
	}
	if err := k.client.Label(ctx, kube.RoleOf(k.in.Identity), synced); err != nil {
		k.failed(err)
	}
}

// failed logs a failure of the Kubernetes API: the run's first as a
// warning, the others at DEBUG.
func (k *kubeRun) failed(err error) {
	msg := "AKU_KUBERNETES_PUBLISH = 1, but the pod's labels and Events are not written: " + err.Error() + " (docs/behaviour.md, \"Kubernetes\")"
	if errors.Is(err, kube.ErrNoCredentials) {
		msg = "AKU_KUBERNETES_PUBLISH = 1, but aku has " + err.Error() + ": the pod's labels and Events are not written (docs/behaviour.md, \"Kubernetes\")"
	}
	if k.warned {
		k.log.Debug(msg)
		return
	}
	k.warned = true
	k.log.Warn(msg, podlife.LogKeyPod, k.in.Identity.PodName)
}

func pathOf(plan *podlife.Plan) string {
	if plan == nil {
		return "no plan"
	}
	return string(plan.Path)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
