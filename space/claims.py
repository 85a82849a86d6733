"""What a submission says about itself that the server cannot re-compute from the replies: the
compression method and ratio, the model's size and the timings.

The method must be one of the benchmark's (the core's torch-free table of the runner's methods)
and agree with its ratio; a size claimed for a model this board knows must match that model's
published size; a size of any other model, and every timing, is kept as the submitter's claim
and shown as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from audiomarathon.methods import METHOD_KINDS, NONE, canonical_method
from audiomarathon.records import RESULTS_FILE as RESULTS
from audiomarathon.run_identity import normalize_model_name

# How far a run's counted parameters may be from the published count: a run may load only part
# of a checkpoint (Qwen2.5-Omni's thinker is about 0.83 of the whole, without the speech talker).
SIZE_TOLERANCE = 0.3

# Where a row's size comes from (stored with the entry, shown on the board).
SIZE_CHECKED = "checked"  # counted by the run and within the tolerance of the published size
SIZE_PUBLISHED = "published"  # a known model's published count (a paper row, or a run carrying no count)
SIZE_NOMINAL = "nominal"  # the size a model is named by (no published count of all its weights)
SIZE_SELF_REPORTED = "self-reported"  # a model this board does not know: the run's count or name


@dataclass(frozen=True)
class KnownModel:
    hub_id: str
    params_b: float  # parameters in billions
    source: str  # where the figure is published
    names: tuple[str, ...] = ()  # other names of the model (the paper's table)
    # True: a count of all the checkpoint's weights, which a run's own count is checked against.
    # False: the size the model is named by (its language model's), shown but never used to refuse.
    counted: bool = True

    @property
    def key(self) -> str:
        return self.hub_id.rsplit("/", 1)[-1].lower()

    @property
    def size_source(self) -> str:
        return SIZE_PUBLISHED if self.counted else SIZE_NOMINAL


_HUB_COUNT = "Hub page: safetensors weights counted"
# The one table of model sizes: the open models the runner has adapters for and the open models of
# the paper's table. A fine-tune or local copy under the same folder name has the same size.
KNOWN_MODELS: tuple[KnownModel, ...] = (
    KnownModel("Qwen/Qwen2-Audio-7B-Instruct", 8.4, _HUB_COUNT),
    KnownModel("Qwen/Qwen2-Audio-7B", 8.4, _HUB_COUNT),
    KnownModel("Qwen/Qwen2.5-Omni-7B", 10.7, _HUB_COUNT),
    KnownModel("Qwen/Qwen2.5-Omni-3B", 5.5, _HUB_COUNT),
    KnownModel("microsoft/Phi-4-multimodal-instruct", 5.6, "model card: 5.6B parameters",
               names=("Phi-4-Multimodal",)),
    KnownModel("google/gemma-3n-E2B-it", 5.4, _HUB_COUNT),
    KnownModel("google/gemma-3n-E4B-it", 7.8, _HUB_COUNT),
    KnownModel("mistralai/Voxtral-Mini-3B-2507", 4.7, _HUB_COUNT),
    KnownModel("mistralai/Voxtral-Small-24B-2507", 24.3, _HUB_COUNT),
    KnownModel("nvidia/audio-flamingo-3-hf", 8.3,
               "weights of the checkpoint's architecture counted with transformers' "
               "AudioFlamingo3ForConditionalGeneration: Qwen2.5-7B language model 7.61B + AF-Whisper "
               "encoder 0.64B + projector 0.02B", names=("Audio-Flamingo-3",)),
    KnownModel("nvidia/audio-flamingo-2", 3.0, "model card: \"a 3B parameter small language model\"",
               names=("Audio-Flamingo-2",), counted=False),
    KnownModel("lmms-lab/Aero-1-Audio-1.5B", 1.5,
               "Hub id (the checkpoint the paper's scripts load) and model card (github.com/EvolvingLMMs-Lab/Aero-1): "
               "built upon Qwen-2.5-1.5B",
               names=("Aero-1-Audio",), counted=False),
    KnownModel("baichuan-inc/Baichuan-Omni-1d5", 7.0,
               "model card and technical report (arXiv 2501.15368): a 7B model (its language model)",
               names=("Baichuan-Omni-1.5",), counted=False),
)
_BY_KEY = {key: m for m in KNOWN_MODELS
           for key in (m.key, *(normalize_model_name(n).rsplit("/", 1)[-1] for n in m.names))}


def known_model(model: str) -> KnownModel | None:
    """The known model a run's model (or a paper row) names: a Hub id, a local folder or one of
    its other names, matched by the last part."""
    return _BY_KEY.get(normalize_model_name(model).rsplit("/", 1)[-1])


def check_method(config: dict) -> tuple[str, float, list[str]]:
    """(method, ratio, problems): the method's registry name and the ratio a row shows. Refused:
    a method the benchmark does not have, a ratio for an uncompressed run, and a
    ``config.compression`` that says otherwise than ``config.method``/``config.ratio``."""
    problems: list[str] = []
    given = config.get("method")
    method = canonical_method(given)
    ratio = float(config.get("ratio") or 0.0)
    if method is None:
        problems.append(f"{RESULTS}: config.method {str(given)[:60]!r} is not a compression method of this "
                        f"benchmark (known: {', '.join(METHOD_KINDS)})")
        return str(given), ratio, problems
    if method == NONE and ratio != 0.0:
        problems.append(f"{RESULTS}: config.method 'none' with config.ratio {ratio:g}: an uncompressed run "
                        "removes nothing, so its ratio is 0")
    nested = config.get("compression")
    if isinstance(nested, dict) and ("method" in nested or "ratio" in nested):
        other_method = canonical_method(nested.get("method", method))
        other_ratio = nested.get("ratio", ratio)
        if other_method != method or not _same_number(other_ratio, ratio):
            problems.append(f"{RESULTS}: config.compression says method {nested.get('method')!r} ratio "
                            f"{other_ratio!r}, but config.method/config.ratio say {given!r} {ratio:g}")
    return method, ratio, problems


def _same_number(a, b) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(float(a), float(b), abs_tol=1e-9)


def claimed_parameters(results: dict) -> float | None:
    """The run's own count of its model's parameters, when it carries a usable one."""
    n = (results.get("config") or {}).get("num_parameters")
    if isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) and n > 0:
        return float(n)
    return None


def check_size(results: dict, name_size_b: float | None) -> tuple[float | None, str, list[str]]:
    """(size in billions, where it comes from, problems) of an open model's run. ``name_size_b``
    is the size read from the model's name, the fallback of a run without a count."""
    model = str((results.get("config") or {}).get("model", ""))
    known = known_model(model)
    claimed = claimed_parameters(results)
    if known is not None and claimed is None:
        return known.params_b, known.size_source, []
    if known is None or not known.counted:  # nothing to check a count against
        size = claimed / 1e9 if claimed is not None else name_size_b
        return size, SIZE_SELF_REPORTED, []
    if abs(claimed / 1e9 - known.params_b) > SIZE_TOLERANCE * known.params_b:
        return None, SIZE_CHECKED, [
            f"{RESULTS}: config.num_parameters {claimed:,.0f} is not the size of {known.hub_id} "
            f"({known.params_b:g} B parameters published; a run of it counts within {SIZE_TOLERANCE:.0%} "
            "of that); a run of another model must carry that model's name"]
    return claimed / 1e9, SIZE_CHECKED, []
