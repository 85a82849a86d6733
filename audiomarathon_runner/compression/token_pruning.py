"""Audio-token pruning at decoder layer K (work in progress)."""
import contextlib


@contextlib.contextmanager
def token_pruning(model, decoder, audio_mask, config, stats):
    raise NotImplementedError("token pruning is being implemented (issue 6)")
    yield
