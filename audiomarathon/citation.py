"""Citation and license of the benchmark, shared by the dataset card, metric card and Space."""

from dataclasses import dataclass

from .tasks import AUDIOMARATHON, BENCHMARKS

LICENSE = "cc-by-nc-4.0"

# AudioMarathon's citation and paper, as its entry in the benchmark registry gives them.
CITATION = BENCHMARKS[AUDIOMARATHON].citation
PAPER_URL = BENCHMARKS[AUDIOMARATHON].paper_url


# The source corpora's own terms, per task (config name). ``restricted``: the audio may not be
# redistributed for every use (non-commercial terms, or third-party copyright such as YouTube
# audio), so a published copy is gated behind an agreement to those terms.
@dataclass(frozen=True)
class SourceTerms:
    corpus: str
    license: str
    url: str
    source_dataset: str  # the Hub's `source_datasets` value
    restricted: bool
    language: str = "en"


SOURCE_TERMS: dict[str, SourceTerms] = {
    "LibriSpeech": SourceTerms("LibriSpeech test-clean", "CC-BY-4.0", "https://www.openslr.org/12",
                               "extended|openslr/librispeech_asr", False),
    "RACE": SourceTerms("RACE (texts read aloud)", "non-commercial research use only (RACE terms)",
                        "https://www.cs.cmu.edu/~glai1/data/race/", "extended|ehovy/race", True),
    "SLUE": SourceTerms("SLUE-VoxPopuli", "CC-BY-4.0 (VoxPopuli audio: CC0)",
                        "https://github.com/asappresearch/slue-toolkit", "extended|asapp/slue", False),
    "TAU": SourceTerms("TAU Urban Acoustic Scenes 2020 Mobile", "non-commercial academic use only (Tampere University terms)",
                       "https://zenodo.org/records/3819968", "extended|other-tau-urban-acoustic-scenes-2020-mobile", True),
    "GTZAN": SourceTerms("GTZAN genre collection", "research use only; the music is copyrighted by its owners",
                         "http://marsyas.info/index.html", "extended|marsyas/gtzan", True),
    "DESED": SourceTerms("DESED (AudioSet recordings)", "research use; YouTube audio, copyrighted by its uploaders",
                         "https://project.inria.fr/desed/", "extended|other-desed", True),
    "VESUS": SourceTerms("VESUS", "non-commercial research use under the VESUS license agreement",
                         "https://engineering.jhu.edu/nsa/vesus/", "extended|other-vesus", True),
    "HAD": SourceTerms("HAD (Half-truth Audio Detection, built on AISHELL-3)", "see the HAD release on Zenodo; AISHELL-3 is Apache-2.0",
                       "https://zenodo.org/records/10377492", "extended|other-had", True, language="zh"),
    "VoxGender": SourceTerms("VoxCeleb1/2", "CC-BY-4.0 (annotations); YouTube audio, copyright stays with its owners",
                             "https://www.robots.ox.ac.uk/~vgg/data/voxceleb/", "extended|other-voxceleb", True),
    "VoxAge": SourceTerms("VoxCeleb1/2 (age labels)", "CC-BY-4.0 (annotations); YouTube audio, copyright stays with its owners",
                          "https://www.robots.ox.ac.uk/~vgg/data/voxceleb/", "extended|other-voxceleb", True),
}
# MMAR's clips come from YouTube; its release is CC-BY-NC-4.0 (the Hub dataset's card).
SOURCE_TERMS["MMAR"] = SourceTerms(
    "MMAR (YouTube clips)", "CC-BY-NC-4.0; YouTube audio, copyright stays with its owners",
    "https://huggingface.co/datasets/BoJack/MMAR", "extended|BoJack/MMAR", True)
# AIR-Bench Foundation's audio comes from public corpora (one per dataset_name), each under its own
# terms; the release names no license of its own for them.
for _task in BENCHMARKS["AIR-Bench Foundation"].tasks:
    SOURCE_TERMS[_task.name] = SourceTerms(
        f"AIR-Bench Foundation ({', '.join(_task.dataset_names)})",
        "the terms of each source corpus (see the AIR-Bench release)",
        "https://huggingface.co/datasets/qyang1021/AIR-Bench-Dataset", "extended|qyang1021/AIR-Bench-Dataset", True)
# AIR-Bench Chat's audio comes from public corpora too (dataset_name per record), under their terms.
for _task in BENCHMARKS["AIR-Bench Chat"].tasks:
    SOURCE_TERMS[_task.name] = SourceTerms(
        "AIR-Bench Chat", "the terms of each source corpus (see the AIR-Bench release)",
        "https://huggingface.co/datasets/qyang1021/AIR-Bench-Dataset", "extended|qyang1021/AIR-Bench-Dataset", True)
