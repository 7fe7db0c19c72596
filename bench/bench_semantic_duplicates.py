"""Semantic duplicates (issue #19): pairwise precision/recall by pair type, P/R over thresholds, throughput
and peak memory of embedding + indexing.

Pairs (all labelled here, none from a hub):
- paraphrase: the lead of a BBC article (--topics, read at run time) rewritten: synonym swaps, sentences
  reordered, contractions undone, a clause dropped; plus hand-written English paraphrases of the stories below.
- translation: hand-written short news stories in English with their French, German and Spanish versions.
- same-topic: two different BBC articles of the same category (hard negatives), and hand-written stories
  on the same subject with different facts.
- unrelated: two BBC articles of different categories.

    python3 bench/bench_semantic_duplicates.py [--topics ../shared/benchdata/topics-dev.csv] [--docs 20000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

from core.refine.signals.semantic import (
    DEFAULT_THRESHOLD,
    MAX_WORDS,
    embed_texts,
    lead_text,
    neighbours_of_embeddings,
)

# (english, paraphrase, french, german, spanish). Stories 0/1, 2/3, 4/5 and 6/7 share a subject, not a story.
STORIES = [
    ("The European Central Bank raised its main interest rate by half a percentage point on Thursday, "
     "saying inflation in the eurozone remains far too high.",
     "Citing stubbornly high inflation across the euro area, the ECB on Thursday lifted its key rate by 0.5 points.",
     "La Banque centrale européenne a relevé jeudi son principal taux d'intérêt d'un demi-point, estimant que "
     "l'inflation dans la zone euro reste beaucoup trop élevée.",
     "Die Europäische Zentralbank hat am Donnerstag ihren Leitzins um einen halben Prozentpunkt angehoben und "
     "erklärt, die Inflation im Euroraum sei weiterhin viel zu hoch.",
     "El Banco Central Europeo subió el jueves su principal tipo de interés medio punto porcentual y afirmó "
     "que la inflación en la eurozona sigue siendo demasiado alta."),
    ("The Bank of Japan kept interest rates below zero on Tuesday and promised to keep buying government "
     "bonds until wages start to rise.",
     "Japan's central bank left its negative rates untouched on Tuesday, pledging further bond purchases "
     "until pay increases.",
     "La Banque du Japon a maintenu mardi ses taux d'intérêt sous zéro et promis de continuer à acheter des "
     "obligations d'État jusqu'à ce que les salaires augmentent.",
     "Die Bank von Japan hat die Zinsen am Dienstag unter null belassen und versprochen, weiter Staatsanleihen "
     "zu kaufen, bis die Löhne steigen.",
     "El Banco de Japón mantuvo el martes los tipos de interés por debajo de cero y prometió seguir comprando "
     "bonos del Estado hasta que suban los salarios."),
    ("Heavy rain caused the river to burst its banks overnight, flooding hundreds of homes in the town and "
     "forcing the closure of the main railway line.",
     "Hundreds of houses were flooded and the main rail line shut after torrential overnight rain sent "
     "the river over its banks.",
     "De fortes pluies ont fait déborder la rivière pendant la nuit, inondant des centaines de maisons de la "
     "ville et entraînant la fermeture de la principale ligne de chemin de fer.",
     "Starke Regenfälle haben den Fluss über Nacht über die Ufer treten lassen, Hunderte Häuser in der Stadt "
     "überflutet und die Schließung der wichtigsten Bahnstrecke erzwungen.",
     "Las fuertes lluvias hicieron que el río se desbordara durante la noche, inundando cientos de viviendas "
     "de la ciudad y obligando a cerrar la principal línea de ferrocarril."),
    ("A long drought has left the reservoir at its lowest level in forty years, and farmers have been told "
     "they may not irrigate their fields this summer.",
     "Farmers face a summer ban on watering crops after a prolonged dry spell drained the reservoir to a "
     "forty-year low.",
     "Une longue sécheresse a laissé le réservoir à son plus bas niveau depuis quarante ans, et les "
     "agriculteurs ont été prévenus qu'ils ne pourraient pas irriguer leurs champs cet été.",
     "Eine lange Dürre hat den Stausee auf den niedrigsten Stand seit vierzig Jahren fallen lassen, und den "
     "Landwirten wurde mitgeteilt, dass sie ihre Felder in diesem Sommer nicht bewässern dürfen.",
     "Una larga sequía ha dejado el embalse en su nivel más bajo en cuarenta años y se ha advertido a los "
     "agricultores de que no podrán regar sus campos este verano."),
    ("The home side scored twice in the last ten minutes to win the cup final three goals to two, ending a "
     "wait of more than thirty years for a trophy.",
     "Two late goals in the final ten minutes gave the hosts a 3-2 cup final victory and their first "
     "silverware in over three decades.",
     "L'équipe locale a marqué deux fois dans les dix dernières minutes pour remporter la finale de la coupe "
     "trois buts à deux, mettant fin à plus de trente ans d'attente d'un trophée.",
     "Die Heimmannschaft traf in den letzten zehn Minuten zweimal und gewann das Pokalfinale mit drei zu zwei "
     "Toren, womit eine mehr als dreißigjährige Wartezeit auf einen Titel endete.",
     "El equipo local marcó dos veces en los últimos diez minutos para ganar la final de copa por tres goles "
     "a dos, poniendo fin a una espera de más de treinta años por un título."),
    ("The club has sacked its manager after a run of seven league defeats left the team one place above the "
     "relegation zone.",
     "Seven straight league losses, leaving the side just above the drop zone, have cost the manager his job.",
     "Le club a limogé son entraîneur après une série de sept défaites en championnat qui laisse l'équipe une "
     "place au-dessus de la zone de relégation.",
     "Der Verein hat seinen Trainer entlassen, nachdem die Mannschaft nach sieben Ligapleiten nur noch einen "
     "Platz vor der Abstiegszone steht.",
     "El club ha destituido a su entrenador después de una racha de siete derrotas en liga que deja al equipo "
     "un puesto por encima de la zona de descenso."),
    ("The company recalled two hundred thousand electric cars after finding that a software fault could "
     "switch off the headlights while driving.",
     "Some 200,000 electric vehicles are being called back because of a software bug that can turn off "
     "their headlights on the road.",
     "Le constructeur a rappelé deux cent mille voitures électriques après avoir découvert qu'un défaut "
     "logiciel pouvait éteindre les phares en pleine conduite.",
     "Das Unternehmen hat zweihunderttausend Elektroautos zurückgerufen, nachdem ein Softwarefehler entdeckt "
     "wurde, der während der Fahrt die Scheinwerfer ausschalten kann.",
     "La empresa llamó a revisión a doscientos mil coches eléctricos tras descubrir que un fallo de software "
     "podía apagar los faros durante la conducción."),
    ("Sales of electric cars rose by a third last year as prices fell and more charging stations opened "
     "along the country's motorways.",
     "Falling prices and new motorway chargers pushed electric car sales up by around 33% over the past year.",
     "Les ventes de voitures électriques ont augmenté d'un tiers l'an dernier, grâce à la baisse des prix et "
     "à l'ouverture de nouvelles bornes de recharge le long des autoroutes.",
     "Der Absatz von Elektroautos ist im vergangenen Jahr um ein Drittel gestiegen, weil die Preise fielen "
     "und entlang der Autobahnen mehr Ladestationen eröffnet wurden.",
     "Las ventas de coches eléctricos crecieron un tercio el año pasado gracias a la bajada de precios y a la "
     "apertura de más estaciones de carga en las autopistas del país."),
    ("Parliament approved a law on Wednesday that bans mobile phones in all primary and secondary schools "
     "from September.",
     "From September, phones will be forbidden in every primary and secondary school under a bill MPs "
     "passed on Wednesday.",
     "Le Parlement a adopté mercredi une loi qui interdit les téléphones portables dans toutes les écoles "
     "primaires et secondaires à partir de septembre.",
     "Das Parlament hat am Mittwoch ein Gesetz verabschiedet, das Mobiltelefone ab September an allen Grund- "
     "und weiterführenden Schulen verbietet.",
     "El Parlamento aprobó el miércoles una ley que prohíbe los teléfonos móviles en todos los colegios de "
     "primaria y secundaria a partir de septiembre."),
    ("Astronomers have found a planet the size of Earth orbiting a nearby star at a distance where liquid "
     "water could exist on its surface.",
     "An Earth-sized world circling a neighbouring star in the zone where surface water could stay liquid "
     "has been spotted by astronomers.",
     "Des astronomes ont découvert une planète de la taille de la Terre en orbite autour d'une étoile proche, "
     "à une distance où de l'eau liquide pourrait exister à sa surface.",
     "Astronomen haben einen erdgroßen Planeten entdeckt, der einen nahen Stern in einem Abstand umkreist, "
     "bei dem es flüssiges Wasser auf seiner Oberfläche geben könnte.",
     "Los astrónomos han encontrado un planeta del tamaño de la Tierra que orbita una estrella cercana a una "
     "distancia en la que podría existir agua líquida en su superficie."),
]
SAME_SUBJECT_STORIES = ((0, 1), (2, 3), (4, 5), (6, 7))

SYNONYMS = {
    "said": "stated", "says": "states", "big": "large", "large": "big", "rise": "increase", "rose": "climbed",
    "fell": "dropped", "fall": "drop", "buy": "purchase", "bought": "acquired", "firm": "company",
    "company": "firm", "plans": "intends", "plan": "proposal", "government": "administration", "new": "fresh",
    "help": "assist", "start": "begin", "started": "began", "show": "reveal", "shows": "reveals",
    "expected": "forecast", "about": "around", "more": "additional", "fans": "supporters", "game": "match",
    "match": "game", "film": "movie", "films": "movies", "award": "prize", "won": "claimed", "win": "claim",
    "chief": "boss", "boss": "head", "users": "customers", "people": "individuals", "told": "informed",
    "warned": "cautioned", "claim": "assert", "claims": "asserts", "quickly": "rapidly", "major": "significant",
    "top": "leading", "sales": "turnover", "profits": "earnings", "job": "post", "jobs": "posts",
    "minister": "secretary", "year": "twelve months", "children": "youngsters", "buyers": "purchasers",
    "problem": "issue", "problems": "issues", "hit": "struck", "cut": "reduced", "cuts": "reductions",
}
CONTRACTIONS = {"n't": " not", "'s been": " has been", "'ll": " will", "'re": " are", "'ve": " have"}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def paraphrase(text: str, rng: random.Random) -> str:
    """Reworded lead: two sentences swapped, most listed words replaced by a synonym, a clause dropped."""
    sentences = _SENTENCE.split(" ".join(text.split()[:MAX_WORDS + 20]))
    if len(sentences) >= 3:
        sentences[1], sentences[2] = sentences[2], sentences[1]
    rewritten = []
    for sentence in sentences:
        for short, long in CONTRACTIONS.items():
            sentence = sentence.replace(short, long)
        words = [SYNONYMS.get(word, word) if rng.random() < 0.8 else word for word in sentence.split()]
        if "," in sentence and rng.random() < 0.5:
            words = " ".join(words).split(",")[0].split() + ["."]
        rewritten.append(" ".join(words))
    return " ".join(rewritten)


def read_topics(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(row["category"], row["text"]) for row in csv.DictReader(handle)]


def labelled_pairs(articles: list[tuple[str, str]], rng: random.Random) -> tuple[list[str], list[tuple]]:
    """Texts and (i, j, kind, is_duplicate) pairs over them."""
    texts: list[str] = []

    def add(text: str) -> int:
        texts.append(text)
        return len(texts) - 1

    pairs = []
    story_rows = [[add(version) for version in story] for story in STORIES]
    for rows in story_rows:
        pairs.append((rows[0], rows[1], "paraphrase", True))
        pairs.extend((rows[0], rows[lang], "translation", True) for lang in (2, 3, 4))
        pairs.extend((rows[1], rows[lang], "translation", True) for lang in (2, 3, 4))
    for a, b in SAME_SUBJECT_STORIES:
        pairs.extend((story_rows[a][x], story_rows[b][y], "same-topic", False) for x in range(5) for y in range(5))
    article_rows = [add(text) for _, text in articles]
    for row in rng.sample(article_rows, min(400, len(article_rows))):
        pairs.append((row, add(paraphrase(texts[row], rng)), "paraphrase", True))
    by_category: dict[str, list[int]] = {}
    for row, (category, _) in zip(article_rows, articles, strict=True):
        by_category.setdefault(category, []).append(row)
    categories = sorted(by_category)
    for _ in range(600):
        category = rng.choice(categories)
        a, b = rng.sample(by_category[category], 2)
        pairs.append((a, b, "same-topic", False))
        first, second = rng.sample(categories, 2)
        pairs.append((rng.choice(by_category[first]), rng.choice(by_category[second]), "unrelated", False))
    return texts, pairs


def pair_cosines(embeddings: np.ndarray, pairs: list[tuple]) -> np.ndarray:
    left = np.array([pair[0] for pair in pairs])
    right = np.array([pair[1] for pair in pairs])
    return np.einsum("ij,ij->i", embeddings[left], embeddings[right])


def report_quality(embeddings: np.ndarray, pairs: list[tuple]) -> None:
    cosines = pair_cosines(embeddings, pairs)
    truth = np.array([pair[3] for pair in pairs])
    kinds = np.array([pair[2] for pair in pairs])
    print(f"{len(pairs)} pairs: " + ", ".join(f"{kind} {int((kinds == kind).sum())}" for kind in sorted(set(kinds))))
    print("threshold  precision  recall  F1     | recall: paraphrase translation "
          "| false-positive rate: same-topic unrelated")
    for threshold in np.arange(0.50, 0.96, 0.05):
        predicted = cosines >= threshold
        true_positives = int((predicted & truth).sum())
        precision = true_positives / max(int(predicted.sum()), 1)
        recall = true_positives / int(truth.sum())
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        rates = [predicted[kinds == kind].mean() for kind in ("paraphrase", "translation", "same-topic", "unrelated")]
        marker = "  <- default" if abs(threshold - DEFAULT_THRESHOLD) < 1e-6 else ""
        print(f"  {threshold:.2f}      {precision:.3f}     {recall:.3f}   {f1:.3f} "
              f"|   {rates[0]:.3f}      {rates[1]:.3f}      |   {rates[2]:.3f}      {rates[3]:.3f}{marker}")
    for kind in ("paraphrase", "translation", "same-topic", "unrelated"):
        values = cosines[kinds == kind]
        print(f"  cosine {kind:11s}: min {values.min():.3f}  median {np.median(values):.3f}  max {values.max():.3f}")


def report_clustering(embeddings: np.ndarray, embedded: np.ndarray, pairs: list[tuple]) -> None:
    """The same pairs through the ANN index and clustering at the default threshold."""
    clusters = neighbours_of_embeddings(embeddings, embedded).clusters(DEFAULT_THRESHOLD)
    for kind in ("paraphrase", "translation", "same-topic", "unrelated"):
        chosen = [pair for pair in pairs if pair[2] == kind]
        together = np.mean([clusters.cluster_id[a] == clusters.cluster_id[b] for a, b, _, _ in chosen])
        print(f"  clustered together at {DEFAULT_THRESHOLD:.2f} (ANN + union-find): {kind:11s} {together:.3f}")


def scale_corpus(articles: list[tuple[str, str]], count: int, rng: random.Random) -> list[str]:
    """count distinct documents: articles, then paraphrases and sentence shuffles of them."""
    corpus = [text for _, text in articles]
    while len(corpus) < count:
        base = rng.choice(articles)[1]
        sentences = _SENTENCE.split(base)
        rng.shuffle(sentences)
        corpus.append(paraphrase(" ".join(sentences), rng))
    return corpus[:count]


def report_throughput(corpus: list[str]) -> None:
    tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    embeddings, embedded = embed_texts(corpus)
    embedded_at = time.perf_counter()
    clusters = neighbours_of_embeddings(embeddings, embedded).clusters(DEFAULT_THRESHOLD)
    finished, cpu_used = time.perf_counter(), time.process_time() - cpu_started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(corpus)} docs (first {MAX_WORDS} words each): embedding {embedded_at - started:.1f} s, "
          f"index + neighbours + clusters {finished - embedded_at:.1f} s, "
          f"{len(corpus) / (finished - started):.0f} docs/s overall; "
          f"{int(clusters.is_duplicate.sum())} flagged as semantic duplicates (most of the corpus is "
          "rewrites of the same articles)")
    print(f"CPU time {cpu_used:.1f} s = {len(corpus) / cpu_used:.0f} docs per CPU-second "
          f"(one thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores during the run)")
    print(f"peak memory: traced Python/numpy allocations {traced_peak / 2**20:.0f} MB, "
          f"process max RSS {rss_peak_mb:.0f} MB (interpreter, encoder weights, index)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=Path, default=Path("../shared/benchdata/topics-dev.csv"))
    parser.add_argument("--docs", type=int, default=20000, help="corpus size for the throughput run (0: skip)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    articles = read_topics(args.topics)
    texts, pairs = labelled_pairs(articles, rng)
    print(f"embedding {len(texts)} texts for the labelled pairs (leads: {lead_text(texts[-1])[:60]!r}...)")
    embeddings, embedded = embed_texts(texts)
    report_quality(embeddings, pairs)
    report_clustering(embeddings, embedded, pairs)
    if args.docs:
        report_throughput(scale_corpus(articles, args.docs, rng))


if __name__ == "__main__":
    main()
