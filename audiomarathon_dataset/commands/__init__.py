"""The dataset package's commands, registered under the ``audiomarathon.commands`` entry points."""

from audiomarathon.cli import Command

COMMANDS = {
    "make-sample-release": Command(
        "audiomarathon_dataset.commands.sample_release",
        "Write a small synthetic release in the authors' layout (AudioMarathon, MMAR, AIR-Bench), to try import-release.",
        19,
    ),
    "import-release": Command(
        "audiomarathon_dataset.commands.import_release",
        "Import an official AudioMarathon, MMAR or AIR-Bench Foundation release into parquet + dataset card.",
        20,
    ),
    "build": Command(
        "audiomarathon_dataset.commands.build",
        "Compose all 10 tasks from the nine source corpora into parquet + dataset card.",
        25,
    ),
    "push": Command("audiomarathon_dataset.commands.push", "Upload a built dataset folder to a Hub dataset repo.", 30),
}
