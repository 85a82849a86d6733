"""Model adapters: one small class per audio-LLM family, registered by config ``model_type``.

    adapter = load_adapter("Qwen/Qwen2-Audio-7B-Instruct", dtype="bf16", device="cuda")
    inputs = adapter.build_inputs(audio_16k, prompt)
    mask = adapter.audio_token_mask(inputs)
"""

from __future__ import annotations

import contextlib
import os

from .aero import AeroAdapter
from .audioflamingo3 import AudioFlamingo3Adapter
from .base import NATIVE, SEGMENTS, AudioInputError, AudioLMAdapter, LongAudioPolicy
from .gemma3n import Gemma3nAdapter
from .phi4_multimodal import MissingAdapterError, Phi4MultimodalAdapter
from .qwen2_5_omni import Qwen2_5OmniThinkerAdapter
from .qwen2_audio import Qwen2AudioAdapter
from .remote_code import RemoteCodeRefused, refusal
from .voxtral import VoxtralAdapter

ADAPTERS: dict[str, type[AudioLMAdapter]] = {}
for _cls in (Qwen2_5OmniThinkerAdapter, Qwen2AudioAdapter, Phi4MultimodalAdapter, Gemma3nAdapter, AudioFlamingo3Adapter,
             VoxtralAdapter, AeroAdapter):
    for _mt in _cls.model_types:
        ADAPTERS[_mt] = _cls

DTYPES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
          "fp32": "float32", "float32": "float32", "auto": "auto"}


class UnknownModelError(ValueError):
    """The checkpoint's model_type has no adapter."""


def adapter_class(model_type: str) -> type[AudioLMAdapter]:
    try:
        return ADAPTERS[model_type]
    except KeyError:
        supported = ", ".join(f"{k} ({v.family})" for k, v in sorted(ADAPTERS.items()))
        raise UnknownModelError(f"no adapter for model_type {model_type!r}; supported: {supported}") from None


def resolve_dtype(dtype):
    import torch

    if isinstance(dtype, torch.dtype) or dtype is None:
        return dtype
    name = DTYPES.get(str(dtype).lower())
    if name is None:
        raise ValueError(f"unknown dtype {dtype!r}; choose from: {', '.join(DTYPES)}")
    return name if name == "auto" else getattr(torch, name)


# The dtype a run uses when none is given, by the kind of device: bf16 is what the supported
# checkpoints are published in and what accelerators run fast; on the CPU bf16 matmuls are several
# times slower than fp32 (one ASR sample of the tiny model: 35 s against 9.6 s), so fp32 there.
DEFAULT_DTYPE = {"cpu": "fp32"}
ACCELERATOR_DTYPE = "bf16"


def default_dtype(device: str | None) -> str:
    """The dtype of a run that names none, on ``device`` (None or auto: the device
    ``resolve_device`` picks): fp32 on the CPU, bf16 on an accelerator."""
    import torch

    kind = torch.device(resolve_device(device) if device in (None, "auto") else str(device)).type
    return DEFAULT_DTYPE.get(kind, ACCELERATOR_DTYPE)


def dtype_name(dtype) -> str:
    """``torch.float32`` as ``fp32`` (the short names runs are given and recorded with)."""
    short = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
    text = str(dtype).removeprefix("torch.")
    return short.get(text, text)


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"--device {device} was requested but CUDA is not available on this machine")
    return str(device)


def read_model_type(model_id_or_path: str, revision: str | None = None) -> str:
    return read_config(model_id_or_path, revision)["model_type"]


def read_config(model_id_or_path: str, revision: str | None = None) -> dict:
    """The checkpoint's config.json as a dict (it has a model_type)."""
    from transformers import PretrainedConfig

    text = str(model_id_or_path)
    # A path (not an "org/name" Hub id) that does not exist: say so, not "invalid repo id".
    if (text.startswith((os.sep, ".", "~")) or text.count("/") > 1) and not os.path.exists(os.path.expanduser(text)):
        raise UnknownModelError(f"model folder {text!r} does not exist (and it is not a Hub model id like ORG/NAME)")
    if not os.path.exists(os.path.expanduser(text)):
        _check_hub_model(text, revision)
    try:
        config, _ = PretrainedConfig.get_config_dict(text, revision=revision)
    except (OSError, ValueError) as err:
        raise UnknownModelError(f"cannot read config.json of {model_id_or_path!r}: {err}") from None
    model_type = config.get("model_type")
    if not model_type:
        raise UnknownModelError(f"{model_id_or_path!r}: config.json has no model_type")
    return config


@contextlib.contextmanager
def quiet_loading():
    """No "Loading weights ... Materializing param" bar from transformers (tens of KB per load, the
    same on every resume); the runner shows its own progress."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _check_hub_model(model: str, revision: str | None) -> None:
    """A Hub id without the Hub: in offline mode it must be in the local cache; otherwise the Hub
    must answer one short probe (without a network the download would retry for half a minute)."""
    from audiomarathon.hub_access import model_offline_variable, model_unreachable_message, unreachable

    offline = model_offline_variable()
    if offline is not None:
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, "config.json", revision=revision), str):
            raise UnknownModelError(f"--model {model}: {offline} is set, and the local Hub cache holds no copy of it "
                                    "(its config.json); give the model's local folder, or download it where the "
                                    f"Hub is reachable (`hf download {model}`)")
        return
    reason = unreachable()
    if reason is not None:
        raise UnknownModelError(model_unreachable_message(model, reason))


def load_adapter(model_id_or_path, dtype="auto", device: str | None = None, revision: str | None = None,
                 trust_remote_code: bool = False) -> AudioLMAdapter:
    """Load model + processor with from_pretrained and wrap them in the family's adapter. A family
    whose checkpoints are their own code (``remote_code``) loads only with ``trust_remote_code``."""
    config = read_config(model_id_or_path, revision)
    model_type = config["model_type"]
    cls = adapter_class(model_type)
    check_remote_code(cls, str(model_id_or_path), config, trust_remote_code)
    device = resolve_device(device)
    kwargs = {"revision": revision} if revision else {}
    with quiet_loading():
        processor = cls.load_processor(str(model_id_or_path), **kwargs)
        model = cls.load_model(str(model_id_or_path), resolve_dtype(dtype), device, **kwargs)
    return cls(model, processor, model_id=str(model_id_or_path))


def needs_remote_code(model_id_or_path: str, revision: str | None = None) -> bool:
    """Whether the checkpoint's family runs the checkpoint's own code (before anything loads)."""
    return adapter_class(read_model_type(model_id_or_path, revision)).remote_code


def check_remote_code(cls: type[AudioLMAdapter], model: str, config: dict, trust_remote_code: bool) -> None:
    if cls.remote_code and not trust_remote_code:
        raise refusal(model, config["model_type"], cls.family, config.get("auto_map"))


__all__ = [
    "ADAPTERS", "AeroAdapter", "AudioFlamingo3Adapter", "RemoteCodeRefused", "Gemma3nAdapter", "MissingAdapterError", "NATIVE", "Phi4MultimodalAdapter",
    "Qwen2AudioAdapter",
    "Qwen2_5OmniThinkerAdapter", "SEGMENTS", "AudioInputError", "AudioLMAdapter", "LongAudioPolicy",
    "UnknownModelError", "VoxtralAdapter", "adapter_class", "default_dtype", "dtype_name", "load_adapter", "read_model_type", "resolve_device", "resolve_dtype",
]
