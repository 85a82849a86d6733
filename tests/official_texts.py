"""The official question and option texts, typed from the authors' own instance builders
(github.com/DabDans/AudioMarathon, src/Segement/TAU_task.py, GTZAN_task.py, HAD_task.py,
Vox2_task.py): an independent reference for the registry and the builder."""

TAU_QUESTION = "What type of acoustic scene is represented in this audio segment?"
TAU_OPTIONS = {
    "airport": "Airport - airport",
    "shopping_mall": "Indoor shopping mall - shopping_mall",
    "metro_station": "Metro station - metro_station",
    "street_pedestrian": "Pedestrian street - street_pedestrian",
    "public_square": "Public square - public_square",
    "street_traffic": "Street with medium level of traffic - street_traffic",
    "tram": "Traveling by a tram - tram",
    "bus": "Traveling by a bus - bus",
    "metro": "Traveling by an underground metro - metro",
    "park": "Urban park - park",
}
GTZAN_QUESTION = "What music genre is represented in this audio segment?"
GTZAN_OPTIONS = {
    "blues": "Blues - blues",
    "classical": "Classical - classical",
    "country": "Country - country",
    "disco": "Disco - disco",
    "hiphop": "Hip-hop - hiphop",
    "jazz": "Jazz - jazz",
    "metal": "Metal - metal",
    "pop": "Pop - pop",
    "reggae": "Reggae - reggae",
    "rock": "Rock - rock",
}
HAD_QUESTION = "Is this audio authentic or does it contain artificially synthesized (fake) segments?"
HAD_OPTIONS = ["Real", "Fake"]
VOXGENDER_QUESTION = "What is the gender of the speaker in this audio segment?"
VOXGENDER_OPTIONS = ["Male", "Female"]
