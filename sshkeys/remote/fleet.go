package remote

import (
	"context"
	"sync"
)

// DefaultJobs is how many hosts are worked on at once.
const DefaultJobs = 8

// Each runs op for hosts 0..n-1, at most jobs at a time, and calls done
// with each outcome as its host finishes (one call at a time, in finishing
// order). It returns the outcomes in host order.
func Each(ctx context.Context, n, jobs int, op func(ctx context.Context, i int) Outcome, done func(i int, o Outcome)) []Outcome {
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	outcomes := make([]Outcome, n)
	next := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(jobs, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := op(ctx, i)
				mu.Lock()
				outcomes[i] = o
				if done != nil {
					done(i, o)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return outcomes
}
