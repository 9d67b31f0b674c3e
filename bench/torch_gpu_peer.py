#!/usr/bin/env python3
"""PyTorch on the GPU doing the same work as `bench_step --device cuda` and
`bench_prior --device cuda`, for side-by-side ratios in one run (bench/compare_gpu.sh).

  step          one training step (zero_grad, forward, cross-entropy, backward, Adam)
  retrain_step  the same plus the mixture prior's complexity term over every parameter (the
                chunked autograd.Function below, plus the Gamma hyper-priors) at tau/N = 0.005/60000,
                and four-group Adam (weights, means, log-precisions, mixing logits), as
                `bench_step --prior`
  prior         the prior's value and gradients (w, mu, log-precision, mixing logits) over N
                weights: "chunked" (the hand-derived autograd.Function) and "plain" autograd
  all           the three in turn

The models and the plain prior are imported from ../shared/peer/torch_peer.py (the CPU peer), so
both peers time the same nets. Its chunked Function keeps its accumulators on the CPU, so it is
restated here with them on the weights' device (same algebra; checked against the CPU peer's at
start-up). Prints one JSON object per line with the keys of bench_step / bench_prior plus
"device". Exits 77 with a message on stderr when torch, a GPU or torch_peer.py is missing.

  python3 bench/torch_gpu_peer.py all --reps 30
  python3 bench/torch_gpu_peer.py step --device cpu --reps 2 --models lenet300 --batch 64   # smoke test
The CPU peer is looked for in $SWS_PEER, ../shared/peer beside the repository, and .peer/ in it
(the folder to copy it to for a machine that gets only the repository).
"""
import argparse, json, math, os, resource, statistics, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEER_DIRS = [d for d in (os.environ.get("SWS_PEER"), os.path.join(ROOT, "..", "shared", "peer"),
                         os.path.join(ROOT, ".peer")) if d]


def skip(message):
    print(f"torch_gpu_peer: skipped: {message}", file=sys.stderr)
    sys.exit(77)


try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # no PyTorch in this python3
    skip(f"PyTorch is not importable by {sys.executable} ({e})")

for _d in PEER_DIRS:
    if os.path.isfile(os.path.join(_d, "torch_peer.py")):
        sys.path.insert(0, os.path.abspath(_d))
        break
try:
    import torch_peer
    from torch_peer import J, LOG2PI, PARAMS, build, prior_plain
except ImportError as e:
    skip(f"torch_peer.py (the CPU peer, for the model definitions) not found in {PEER_DIRS} ({e}); "
         "set SWS_PEER to its folder or copy it to .peer/")

TAU_OVER_N = 0.005 / 60000  # bench_step --prior's tau / N
ALPHA_ZERO, BETA_ZERO, ALPHA, BETA = 5000.0, 2.0, 250.0, 0.1  # sws's Gamma hyper-priors (PriorOptions)


def configure(device):
    """Fair settings for the GPU: sws's cuBLAS GEMMs use CUBLAS_DEFAULT_MATH (full FP32) and its
    cuDNN convolutions FMA math (cuda/cuda_backend.cu, cuda/cuda_conv.cu), so PyTorch must not use
    TF32 tensor cores either (PyTorch's default allows TF32 in cuDNN convolutions, which would
    compare 10-bit-mantissa products against FP32 ones). cudnn.benchmark lets PyTorch time every
    convolution algorithm and keep the fastest, its best setting (sws takes cuDNN's heuristic
    pick among deterministic FMA algorithms)."""
    if device.type != "cuda":
        return "cpu"
    torch.backends.cudnn.benchmark = True
    # PyTorch 2.9+ has the fp32_precision API and raises if it is mixed with the legacy
    # allow_tf32 flags, so use one or the other, never both.
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.fp32_precision = "ieee"
        if hasattr(torch.backends.cudnn, "conv"):
            torch.backends.cudnn.conv.fp32_precision = "ieee"  # not implied by the line above
        tf32 = "off (fp32_precision = ieee)"
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        tf32 = "off (allow_tf32 = False)"
    return (f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, cuDNN "
            f"{torch.backends.cudnn.version()}, TF32 {tf32}, cudnn.benchmark on")


def timed(fn, warm, reps, device):
    """Median, min and max seconds of fn() over reps calls after warm ones; on a GPU each call is
    fenced by torch.cuda.synchronize() so that the clock covers its kernels."""
    cuda = device.type == "cuda"
    ts = []
    for i in range(warm + reps):
        if cuda:
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize(device)
        if i >= warm:
            ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts), max(ts)


def chunked_function(chunk):
    """torch_peer.chunked_function with the accumulators on the weights' device and a chunk size
    of our choosing (on a GPU, chunks of 2^16 weights would make it launch-bound)."""

    class Prior(torch.autograd.Function):
        @staticmethod
        def forward(ctx, w, mu, lp, rho):
            with torch.no_grad():
                dev = w.device
                log_pi = torch.log_softmax(rho, 0)
                prec = lp.exp()
                c = log_pi + 0.5 * lp - 0.5 * LOG2PI
                gw = torch.empty_like(w)
                gmu, glp, rsum = (torch.zeros(J, dtype=torch.float64, device=dev) for _ in range(3))
                loss = torch.zeros((), dtype=torch.float64, device=dev)
                for s in range(0, w.numel(), chunk):
                    d = w[s:s + chunk, None] - mu[None, :]
                    pd2 = prec * d * d
                    a = c - 0.5 * pd2
                    lse = torch.logsumexp(a, dim=1)
                    r = (a - lse[:, None]).exp_()
                    loss -= lse.sum(dtype=torch.float64)
                    rpd = r * d * prec
                    gw[s:s + chunk] = rpd.sum(1)
                    gmu -= rpd.sum(0, dtype=torch.float64)
                    glp -= (r * (0.5 - 0.5 * pd2)).sum(0, dtype=torch.float64)
                    rsum += r.sum(0, dtype=torch.float64)
                grho = -rsum + log_pi.exp().double() * rsum.sum()
            ctx.save_for_backward(gw, gmu.float(), glp.float(), grho.float())
            return loss.float()

        @staticmethod
        def backward(ctx, g):
            return tuple(g * t for t in ctx.saved_tensors)
    return Prior.apply


def prior_inputs(n, device):
    """The CPU peer's inputs: w = randn(n) * 0.05 (seed 0), J means over [-0.6, 0.6], sigma 0.25."""
    gen = torch.Generator().manual_seed(0)
    w = (torch.randn(n, generator=gen) * 0.05).to(device).requires_grad_()
    mu = torch.linspace(-0.6, 0.6, J, device=device).requires_grad_()
    lp = torch.full((J,), -math.log(0.25 ** 2), device=device).requires_grad_()
    rho = torch.zeros(J, device=device).requires_grad_()
    return w, mu, lp, rho


def check_chunked(device, chunk):
    """Our device-side chunked Function against the CPU peer's on 100,000 weights."""
    def run(fn, dev):
        xs = prior_inputs(100_000, dev)
        loss = fn(*xs)
        loss.backward()
        return [loss.detach().double().cpu()] + [x.grad.double().cpu() for x in xs]
    ours = run(chunked_function(min(chunk, 30_000)), device)  # several chunks, a ragged last one
    theirs = run(torch_peer.chunked_function(), torch.device("cpu"))
    for name, a, b in zip(("loss", "w", "mu", "log-precision", "rho"), ours, theirs):
        err = ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()
        if not err < 1e-4:
            sys.exit(f"torch_gpu_peer: the device chunked prior differs from torch_peer's in {name} "
                     f"(relative error {err:.3g})")


def emit(**row):
    print(json.dumps(row), flush=True)


def adam(groups, device, fused):
    # fused=True: one kernel for all tensors, as sws's CUDA Adam (adam_update_many); PyTorch's
    # own default on CUDA is the multi-tensor "foreach" version, a few launches more.
    if device.type == "cuda" and fused:
        return torch.optim.Adam(groups, fused=True)
    return torch.optim.Adam(groups)


def step(args, device, with_prior):
    torch.manual_seed(0)
    chunked = chunked_function(args.chunk)
    for name in args.models:
        for batch in args.batch:
            model = build(name).to(device)
            params = list(model.parameters())
            assert sum(p.numel() for p in params) == PARAMS[name]
            x = torch.rand(batch, 1, 28, 28, device=device)
            y = torch.randint(0, 10, (batch,), device=device)
            if not with_prior:
                opt = adam(model.parameters(), device, args.fused)  # lr 1e-3 as torch_peer's step

                def one():
                    opt.zero_grad(set_to_none=True)
                    F.cross_entropy(model(x), y).backward()
                    opt.step()
            else:
                _, mu, lp, rho = prior_inputs(1, device)
                one_minus_alpha = torch.tensor([1 - ALPHA_ZERO] + [1 - ALPHA] * (J - 1), device=device)
                beta = torch.tensor([BETA_ZERO] + [BETA] * (J - 1), device=device)
                opt = adam([{"params": params, "lr": 5e-4}, {"params": [mu], "lr": 3e-3},
                            {"params": [lp], "lr": 3e-3}, {"params": [rho], "lr": 3e-3}], device, args.fused)

                def one():
                    opt.zero_grad(set_to_none=True)
                    w = torch.cat([p.reshape(-1) for p in params])
                    complexity = chunked(w, mu, lp, rho) + (one_minus_alpha * lp + beta * lp.exp()).sum()
                    (F.cross_entropy(model(x), y) + complexity * TAU_OVER_N).backward()
                    opt.step()
            med, lo, hi = timed(one, 10, args.reps, device)
            emit(kind="retrain_step" if with_prior else "step", impl="torch", model=name, batch=batch,
                 threads=args.threads, device=device.type, median_s=med, min_s=lo, max_s=hi)


def prior(args, device):
    fns = {"plain": prior_plain, "chunked": chunked_function(args.chunk)}
    for n in args.n:
        w, mu, lp, rho = prior_inputs(n, device)
        for impl in args.impl:
            def one():
                for p in (w, mu, lp, rho):
                    p.grad = None
                fns[impl](w, mu, lp, rho).backward()
            reps = 5 if n > 5_000_000 else args.prior_reps
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            med, lo, hi = timed(one, 2, reps, device)
            row = dict(kind="prior", impl=f"torch-{impl}", n=n, threads=args.threads, device=device.type,
                       median_s=med, min_s=lo, max_s=hi,
                       peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            if impl == "chunked":
                row["chunk"] = args.chunk
            if device.type == "cuda":
                # The same minimum traffic as bench_prior counts: read w, write its gradient.
                row["gbytes_per_s"] = 8.0 * n / med / 1e9
                row["gpu_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
            emit(**row)
        del w, mu, lp, rho
        if device.type == "cuda":
            torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["step", "retrain_step", "prior", "all"])
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a smoke test")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--models", nargs="*", default=list(PARAMS))
    ap.add_argument("--batch", type=int, nargs="*", default=[64, 256])
    ap.add_argument("--n", type=int, nargs="*", default=[266610, 431080, 642460, 10_000_000])
    ap.add_argument("--impl", nargs="*", default=["chunked", "plain"], choices=["chunked", "plain"])
    ap.add_argument("--chunk", type=int, default=1 << 22,
                    help="weights per chunk of the chunked prior (default 2^22: 4M x 17 floats, 285 MB a temporary)")
    ap.add_argument("--reps", type=int, default=50, help="timed steps after warm-up")
    ap.add_argument("--prior-reps", type=int, default=None,
                    help="timed calls of the prior (5 for N > 5M); default --reps")
    ap.add_argument("--no-fused", dest="fused", action="store_false", help="PyTorch's default foreach Adam")
    args = ap.parse_args()
    if args.prior_reps is None:
        args.prior_reps = args.reps
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        skip(f"torch {torch.__version__} sees no GPU (torch.cuda.is_available() is False; "
             f"built with CUDA {torch.version.cuda})")
    if device.type not in ("cuda", "cpu"):
        sys.exit(f"torch_gpu_peer: --device must be cuda, cuda:N or cpu, not {args.device}")
    torch.set_num_threads(args.threads)
    print(f"torch_gpu_peer: {configure(device)}", file=sys.stderr, flush=True)
    if args.what in ("retrain_step", "all") or (args.what == "prior" and "chunked" in args.impl):
        check_chunked(device, args.chunk)
    if args.what in ("step", "all"):
        step(args, device, False)
    if args.what in ("retrain_step", "all"):
        step(args, device, True)
    if args.what in ("prior", "all"):
        prior(args, device)


if __name__ == "__main__":
    main()
