"""Evaluate models served behind an OpenAI-compatible chat-completions API.

GPT-4o audio, Gemini's OpenAI-compatible endpoint, vLLM and SGLang all accept the task prompt as
a text part and the clip as an ``input_audio`` part. The runner's own sample loading, resume
records and scoring are used unchanged; only the per-sample step differs: requests run
concurrently (``concurrency`` in flight, spread over the base URLs), with retries and
exponential backoff, and each finished sample is written as soon as its reply arrives.

    config = RunConfig(model="gpt-4o-audio-preview", data=..., out=...,
                       api=ApiConfig(base_urls=("https://api.openai.com/v1",), api_key_env="OPENAI_API_KEY"))
    run_evaluation(config)

The options and settings (``config.py``) load without the client and numpy: every command line
reads them; the rest loads when an API run starts.
"""

from audiomarathon.lazy import lazy_attributes

# public name -> the module of this package that defines it
_EXPORTS = {
    "AUDIO_FORMATS": "config", "TOO_LONG_POLICIES": "config", "ApiConfig": "config",
    "ApiFatalError": "runner", "ApiRunner": "runner", "backend_summary": "runner", "same_model": "runner",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_attributes(__name__, _EXPORTS)
