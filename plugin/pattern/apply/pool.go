package apply

import (
	"context"
	"sync"
)

// parallel calls fn(i) for i in [0, n) on at most workers goroutines. A
// cancelled context stops handing out work; fn sees ctx and reports it.
func parallel(ctx context.Context, workers, n int, fn func(i int)) {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range jobs {
				fn(i)
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			// Every remaining index still runs fn so that it reports the
			// cancellation instead of vanishing from the report.
			fn(i)
			continue
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}
