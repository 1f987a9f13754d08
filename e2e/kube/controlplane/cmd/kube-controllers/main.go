// Command kube-controllers runs two of Kubernetes' controllers, and nothing
// else, against the API server that --kubeconfig names: the StatefulSet
// controller (k8s.io/kubernetes/pkg/controller/statefulset) and the
// EndpointSlice controller (k8s.io/kubernetes/pkg/controller/endpointslice),
// what kube-controller-manager --controllers=statefulset,endpointslice runs,
// in a smaller binary. Both share one informer factory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/endpointslice"
	"k8s.io/kubernetes/pkg/controller/statefulset"
)

// maxEndpointsPerSlice is kube-controller-manager's default
// (--max-endpoints-per-slice).
const maxEndpointsPerSlice = 100

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file of the API server")
	workers := flag.Int("workers", 5, "StatefulSets, and Services, synced at once")
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if err := run(*kubeconfig, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "kube-controllers:", err)
		os.Exit(1)
	}
}

func run(kubeconfig string, workers int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("reading kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.UserAgent = "kube-controllers"
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("making a client of %s: %w", cfg.Host, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	factory := informers.NewSharedInformerFactory(client, 12*time.Hour)
	ssc := statefulset.NewStatefulSetController(ctx,
		factory.Core().V1().Pods(),
		factory.Apps().V1().StatefulSets(),
		factory.Core().V1().PersistentVolumeClaims(),
		factory.Apps().V1().ControllerRevisions(),
		client)
	// A batch period of 0 writes each change of a Service's endpoints at
	// once, as kube-controller-manager's default does.
	esc := endpointslice.NewController(ctx,
		factory.Core().V1().Pods(),
		factory.Core().V1().Services(),
		factory.Core().V1().Nodes(),
		factory.Discovery().V1().EndpointSlices(),
		maxEndpointsPerSlice,
		client,
		0)
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Go(func() { ssc.Run(ctx, workers) })
	wg.Go(func() { esc.Run(ctx, workers) })
	wg.Wait()
	factory.Shutdown()
	return nil
}
