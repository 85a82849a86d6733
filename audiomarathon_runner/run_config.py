"""The settings of one evaluation run, and what follows from them: its identity, the family whose
procedure it follows and what each sample sends (from the run profile).

    RunConfig(model="Qwen/Qwen2-Audio-7B-Instruct", tasks="TAU,GTZAN", data="path/to/audiomarathon",
              out="runs/qwen2audio")
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from audiomarathon.run_identity import run_id as run_id_of
from audiomarathon.run_identity import run_identity
from audiomarathon.tasks import resolve_tasks

from .compression.config import CompressionConfig
from .profiles import DEFAULT_PROFILE, Family, Request, family_named, get_profile
from .samples import AUDIO_CONTROLS, Sample

if TYPE_CHECKING:
    from .adapters import AudioLMAdapter
    from .api import ApiConfig


@dataclass
class RunConfig:
    model: str
    data: str | None = None
    out: str = "runs/out"
    tasks: str = "all"
    limit: int | None = None
    # method, ratio, pruning layer, seed (also of the noise control) and press scope
    compression: CompressionConfig = field(default_factory=CompressionConfig)
    # None: the device's default, fp32 on the CPU and bf16 on an accelerator (resolved_dtype)
    dtype: str | None = None
    device: str | None = None  # None: cuda when available, else cpu
    batch_size: int = 1
    audio_control: str | None = None
    revision: str | None = None
    max_audio_seconds: float = 600.0
    # Caps every task's max_new_tokens (smoke tests, demos); None keeps the profile's values.
    max_new_tokens: int | None = None
    # How each family is asked each task (audiomarathon_runner.profiles): "card" or "authors". The
    # command line also takes --press-scope's default from it (Profile.press_scope); here the
    # CompressionConfig given is used as it is.
    profile: str = DEFAULT_PROFILE
    retry_failed: bool = False
    progress: bool = True
    # Samples prepared ahead (decode + features + tokens) in a background thread while the model
    # generates; 0 prepares inline; None: 1 when the model is on an accelerator, 0 on the CPU
    # (there the worker would only take cores from the model). Timing only, never outputs.
    prefetch: int | None = None
    # Set: the model is served behind an OpenAI-compatible API (audiomarathon_runner.api) and
    # ``model`` is its served name; the local-model fields (dtype, device, ...) do not apply.
    api: "ApiConfig | None" = None
    # A display name (compare, the leaderboard): a label only, never part of the run identity.
    name: str | None = None
    # Allow a checkpoint whose model is its own Python code (Aero-1) to run that code here. Never
    # implied; results.json and the run identity record the sha256 of the code (remote_code).
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        from .commands.checks import check_name

        self.name = check_name(self.name)
        if self.api is None:
            self.model = local_model_path(self.model)
        if self.api is not None and self.method != "none":
            raise ValueError(f"--method {self.method}: API models run uncompressed, only method none is available")
        if self.batch_size != 1:
            # Per-sample timings, the audio-token span and token pruning all assume batch size 1.
            raise ValueError(f"--batch-size {self.batch_size}: only batch size 1 is implemented")
        if self.audio_control not in (None, *AUDIO_CONTROLS):
            raise ValueError(f"--audio-control must be one of {', '.join(AUDIO_CONTROLS)}, got {self.audio_control!r}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"--max-new-tokens must be >= 1, got {self.max_new_tokens}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")
        if self.prefetch is not None and self.prefetch < 0:
            raise ValueError(f"--prefetch must be >= 0, got {self.prefetch}")
        get_profile(self.profile)  # an unknown name fails here, naming the profiles
        if self.trust_remote_code and self.api is not None:
            raise ValueError("--trust-remote-code applies to a model loaded here; a model behind --api-base runs "
                             "on its server")

    # Read-only views of the compression setting (stored once, in ``compression``).
    method = property(lambda self: self.compression.method)
    ratio = property(lambda self: self.compression.ratio)
    layer = property(lambda self: self.compression.layer)
    seed = property(lambda self: self.compression.seed)
    press_scope = property(lambda self: self.compression.press_scope)

    def settings(self) -> dict:
        """The run's settings as one flat mapping (results.json's ``config`` starts from it). The
        dtype is the one the model runs in: a defaulted run and the same run with that dtype given
        are one computation, so one identity; a model behind an API has none."""
        out = {k: v for k, v in asdict(self).items() if k not in ("compression", "api", "progress", "retry_failed")}
        if self.trust_remote_code:
            out["remote_code"] = self.remote_code()
        else:  # a run without the flag records what it recorded before the flag existed
            del out["trust_remote_code"]
        if self.api is None:
            out["dtype"] = self.resolved_dtype()
        elif out["dtype"] is None:
            del out["dtype"]
        return {**out, **self.compression.to_dict()}

    def remote_code(self) -> dict | None:
        """The sha256 and names of the checkpoint's .py files where the run lets its family run
        them (``--trust-remote-code`` on a remote-code family); None otherwise. Read once per run."""
        if not self.trust_remote_code:
            return None
        if "_remote_code" not in self.__dict__:
            from .adapters import needs_remote_code
            from .adapters.remote_code import code_record

            remote = needs_remote_code(self.model, self.revision)
            self.__dict__["_remote_code"] = code_record(self.model, self.revision) if remote else None
        return self.__dict__["_remote_code"]

    def resolved_dtype(self) -> str:
        """``dtype``, or when none was given the default of the device the model runs on."""
        from .adapters import default_dtype

        return self.dtype if self.dtype is not None else default_dtype(self.device)

    def identity(self, dataset_fingerprint: str | None) -> dict:
        """The run identity (what changes a sample's output): never the output folder, data path,
        limit, device, prefetch or the API servers' addresses. Samples recorded under the same
        identity are not run again."""
        settings = self.settings()
        if self.api is not None:
            settings["backend"] = {"kind": "openai-chat", **self.api.public()}
        return run_identity(settings, dataset_fingerprint)

    def family(self, adapter: AudioLMAdapter | None = None) -> Family:
        """The family whose procedure the run follows: the loaded model's, or for a model behind an
        API the one --family names (unknown: none). A chat API has no transcription mode."""
        if adapter is not None:
            return family_named(adapter.family)
        family = family_named(self.api.family if self.api is not None else None)
        return dataclasses.replace(family, has_transcription_mode=False)

    def request(self, sample: Sample, family: Family) -> Request:
        """What the model is sent for ``sample`` under the run's profile (and --max-new-tokens)."""
        return get_profile(self.profile).request(family, sample.task_info, sample.question, sample.choices,
                                                 cap=self.max_new_tokens)

    def max_new_tokens_for(self, task, family: Family) -> int:
        return get_profile(self.profile).max_new_tokens(family, task, self.max_new_tokens)

    def procedure(self, family: Family) -> dict:
        """results.json's account of how the family was asked each task under the profile."""
        return get_profile(self.profile).describe(family, resolve_tasks(self.tasks), self.max_new_tokens)

    def run_id(self, dataset_fingerprint: str | None) -> str:
        """The run id of this configuration on that dataset version (what every record carries)."""
        return run_id_of(self.identity(dataset_fingerprint))


def local_model_path(model: str) -> str:
    """An existing local folder as its absolute path, however it was spelled (``models/tiny``,
    ``./models/tiny/.``, ``~/models/tiny``): one folder is one model in the run identity, which
    would read a relative ``org/name`` spelling as a Hub id. Symbolic links are kept, not followed:
    a link's own name is the name its user gave the model. Anything else (a Hub id) is unchanged."""
    path = os.path.expanduser(str(model))
    if not str(model).strip() or not os.path.isdir(path):
        return model
    return os.path.abspath(path)
