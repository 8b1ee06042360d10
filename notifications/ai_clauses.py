"""Does a new version of a document start to allow training AI on users' data?

:func:`detect` reads a :class:`~notifications.document_diff.DocumentDiff` and
flags the change when one of its *added* sentences introduces or widens the
use of personal data or user content to train artificial-intelligence or
machine-learning models. It quotes those sentences (verbatim, as
:func:`~notifications.document_diff.sentences` spells them) as evidence, with
the name of the rule that matched each. English and French.

The rules
---------

A sentence is flagged when it holds, not negated, both:

1. a **training cue**, one of
   - ``train-model``: a training verb or noun near a model or AI term, in
     either order ("train our models", "training of our machine learning
     models", "models are trained", "entraîner nos modèles d'IA",
     "l'entraînement de nos algorithmes", "affiner nos grands modèles de
     langage");
   - ``develop-ai``: developing or improving *AI itself* ("develop and
     improve artificial intelligence technology", "improve our generative AI
     models", "development of AI models", "model improvement", "améliorer nos
     systèmes d'intelligence artificielle"). Improving something else with AI
     ("we use AI to improve your feed") is not this;
   - ``ml-purpose``: machine learning as a purpose ("for machine learning
     purposes", "à des fins d'apprentissage automatique"), not as a tool
     ("we use machine learning to detect spam");
2. a **data cue**: personal data or content that users provide, one of
   - ``personal-data``: "personal data/information", "données personnelles",
     "données à caractère personnel"...;
   - ``possessive-data``: a data or content noun owned by the user ("your
     posts", "users' content", "their information", "vos contenus", "les
     données des utilisateurs");
   - ``user-content``: kinds of content that only users produce ("posts",
     "comments", "messages", "conversations", "prompts", "inputs",
     "publications", "requêtes"...);
   - ``described-data``: data pointed at by a determiner or a relative clause
     ("the information we collect", "content you create or share", "this
     information", "les informations que vous nous fournissez");
   - ``public-data``: published or publicly available material ("public
     posts", "information that is publicly available online", "contenus
     publics"): users' posts, and web pages full of personal data;
   - ``defined-term``: a capitalized defined term ("Customer Content",
     "Service Generated Data").

   Anonymized, aggregated, de-identified or synthetic data is not a data cue
   (it is not personal data), nor is "training data" or "licensed data".

Negation: a training cue is void when it is in the scope of a negation of the
use ("will not use ... to train", "do not train", "is never used for", "no
personal data is used", "without using ... to train", "excluding model
training", "nous n'utilisons pas ... pour entraîner", "ne seront jamais
utilisées", "aucune donnée ... n'est", "sans utiliser"). The scope runs to the
end of the clause: it stops at "but", "however", "unless", "mais", "sauf", a
semicolon or colon, or a new subject (", we ..."), so "we do not sell your
data, but we use it to train our models" is flagged. A negation that bears on
something else is not one: "if you do not opt out / object / want",
"not only", "not limited to", "si vous ne vous y opposez pas". A data cue
right after a negation is void too ("trained on licensed data, not on your
content"), and so is publicly available data beside it. A promise not to
train with exceptions ("will not use ... to train ..., unless you opt in") is
a restriction, not flagged; but an exception that itself states training
("unless ..., in which case we may use them for training models") is read on
its own, after the clause break, and flagged.

AI features that involve no training ("our AI features help you write",
"vous pouvez utiliser l'IA pour rédiger") have no training cue: not flagged.

Structure: a statement is often spread over a list or a table. When a
sentence holds one cue and its surroundings (see
:class:`~notifications.document_diff.SentenceContext`) the other, it is
flagged too:

- ``lead-in:<rule>``: a list item read with the lead-in it completes
  ("We use your personal data for the following purposes:" + "To improve the
  Services, including training our models");
- ``table-row:<rule>``: a table cell with the other cells of its row
  (purpose "Develop and improve AI" | data "Public content you create");
- ``antecedent``: when a flagged sentence names its data only by an anaphor
  ("We'll use this information to develop AI models"), the added sentence
  before it that says which information is quoted too.

Rewording is not widening: a flagged sentence is dropped when the old version
had a similar flagged sentence (removed now) whose cues include all of its
cues; it is dropped only when it brings no new cue word (no new kind of
data, no new model).

Limits
------

Patterns, not understanding. Missed: training stated without any model or AI
word ("to develop their services" when the partner is an AI company), data
named only in another paragraph or by a pronoun ("use it to train", unless
the antecedent rule applies), cues farther apart than the windows below,
other languages. Mis-scoped negations: a negation in a subordinate clause
just before the verb ("content that is not public may be used to train")
voids the cue, and so does one over a coordinated verb ("we do not sell your
data and use it to train" is read as a promise; with "but", or ", we", it is
not). Only added sentences count: a sentence whose key was
anywhere in the old version is not read, even if it moved into a training
section. Rule names and cue lists are the place to extend it; keep the
examples in ``tests/unit/test_ai_clauses.py`` in step.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from notifications.document_diff import DocumentDiff, SentenceContext, sentence_key

__all__ = ["Detection", "classify_sentence", "detect"]


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict on one change, and why."""

    flagged: bool
    # Added sentences that introduce or widen AI training, in document order.
    evidence: tuple[str, ...]
    # The rule that matched each piece of evidence (same length and order).
    rules: tuple[str, ...]


def classify_sentence(sentence: str) -> str | None:
    """The rule ("<training cue>/<data cue>") a sentence matches on its own."""
    return _analyse(sentence).rule()


def detect(diff: DocumentDiff) -> Detection:
    """Flag a change whose added sentences introduce or widen AI training."""
    added = set(diff.added)
    found: dict[str, str] = {}
    for index, sentence in enumerate(diff.added):
        context = diff.context_of_added(index)
        verdict = _classify_in_context(sentence, context)
        if verdict is None:
            continue
        rule, analysis = verdict
        if _reworded(sentence, analysis, diff):
            continue
        found.setdefault(sentence, rule)
        if analysis.anaphoric_data_only():
            for previous in context.previous:
                if previous in added and _analyse(previous).has_data():
                    found.setdefault(previous, "antecedent")
    evidence = tuple(sentence for sentence in diff.added if sentence in found)
    return Detection(
        flagged=bool(evidence),
        evidence=evidence,
        rules=tuple(found[sentence] for sentence in evidence),
    )


# --- vocabulary --------------------------------------------------------------
# Patterns are compiled case-insensitive; acronyms are case-sensitive through
# (?-i:...) so that French "ai" (avoir) or "ml" (millilitre) do not count.

_T = r"\W+"  # a token separator
_NEAR = r"(?:\W+\w+){0,%d}?\W+"  # up to N tokens in between

# AI terms that on their own name an AI technique or system.
_AI = (
    r"(?<!\w)(?:"
    r"artificial[\s-]+intelligence|intelligences?\s+artificielles?"
    r"|generative\s+(?-i:AI)|(?-i:GenAI|AI|A\.I\.|IA|I\.A\.|ML|LLMs?)"
    r"|machine[\s-]+learning|deep[\s-]+learning"
    r"|apprentissage\s+(?:automatique|profond|machine)"
    r"|(?:large\s+)?language\s+models?|foundation\s+models?"
    r"|(?:grands?\s+)?mod[eè]les?\s+(?:de\s+)?(?:langage|langue|fondation)"
    r"|neural\s+networks?|r[ée]seaux?\s+(?:de\s+)?neurones"
    r")(?!\w)"
)
# Words that are AI only next to a training word: "models" alone may be
# business models or model clauses.
_MODEL = r"(?<!\w)(?:models?|algorithms?|mod[eè]les?|algorithmes?)(?!\w)"
_AI_OR_MODEL = rf"(?:{_AI}|{_MODEL})"

# Training verbs and nouns. "former" (fr) only before a determiner, so that
# English "former" (adjective) does not count.
_TRAIN = (
    r"(?<!\w)(?:"
    r"(?:re|pre)?-?train(?:s|ed|ing)?"
    r"|fine[\s-]?tun(?:e|es|ed|ing)|tun(?:e|es|ed|ing)"
    r"|(?:r[ée]-?)?entra[iî]n\w*"
    r"|affin(?:er|ons|ent|é|ée|és|ées|age)"
    r"|form(?:er|ons|ent|é|ée|és|ées)(?=\s+(?:nos|les|des|ses|leurs|notre|le|la|l'|un|une|ces)\b)"
    r")(?!\w)"
)
# After the model word, French finite "entraîne" means "entails" ("l'IA
# entraîne des risques"): only participles and nouns count there.
_TRAINED = (
    r"(?<!\w)(?:"
    r"(?:re|pre)?-?train(?:s|ed|ing)?|fine[\s-]?tun(?:ed|ing)|tun(?:ed|ing)"
    r"|(?:r[ée]-?)?entra[iî]n(?:é|ée|és|ées|ement|ements)|affin(?:é|ée|és|ées|age)"
    r")(?!\w)"
)
_LEARN = r"(?<!\w)(?:learn(?:s|ing)?|apprenn?(?:e|ent|ne|nent)|apprend(?:re)?)(?!\w)"
# Developing or improving (en, fr), verbs then nouns.
_DEVELOP_VERB = (
    r"(?:develop(?:s|ed|ing)?|improv(?:e|es|ed|ing)|build(?:s|ing)?|built"
    r"|enhanc(?:e|es|ed|ing)|creat(?:e|es|ed|ing)|refin(?:e|es|ed|ing)"
    r"|advanc(?:e|es|ed|ing)|optimi[sz](?:e|es|ed|ing)|teach(?:es|ing)?"
    r"|d[ée]velopp\w*|am[ée]lior\w*|perfectionn\w*|conce(?:voir|vons|vez|vent)"
    r"|cr[ée](?:er|ons|ent)|optimis\w*|enrichi\w*)"
)
_DEVELOP_NOUN = (
    r"(?:development|improvement|enhancement|training|fine[\s-]?tuning|advancement"
    r"|d[ée]veloppement|am[ée]lioration|perfectionnement|conception|optimisation"
    r"|entra[iî]nement|affinage)"
)
# What may stand between a develop verb and the AI term: conjunctions,
# determiners, a few adjectives, possessives ("Meta's"), more develop verbs.
_FILLER = (
    rf"(?:and|or|et|ou|to|our|the|its|their|new|own|future|existing|other|generative"
    rf"|proprietary|next|nos|notre|les|la|le|l|des|de|d|du|ses|leurs|leur|propres?"
    rf"|nouveaux|nouvelles|futurs?|futures?|\w+'s|{_DEVELOP_VERB}|{_DEVELOP_NOUN})"
)
# French puts the head first: "modèles d'IA", "systèmes d'intelligence artificielle".
_AI_PHRASE = (
    r"(?:(?:mod[eè]les?|technologies?|syst[eè]mes?|outils|fonctionnalit[ée]s?|produits?"
    r"|services?|algorithmes?)(?:\W+(?:d|de|l|la|à|base|en))+\W+)?" + _AI
)

_TRAINING_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        # "train our models", "training of our machine learning ... models",
        # "entraîner nos modèles", "fine-tune large language models"
        ("train-model", _TRAIN + (_NEAR % 6) + _AI_OR_MODEL),
        # "models are trained", "AI training", "artificial intelligence, training",
        # "modèles entraînés"; "help our AI learn"
        ("train-model", _AI_OR_MODEL + (_NEAR % 4) + _TRAINED),
        ("train-model", _AI_OR_MODEL + (_NEAR % 2) + _LEARN),
        # "develop and improve artificial intelligence technology",
        # "improve our AI models", "améliorer nos modèles d'IA"
        ("develop-ai", rf"(?<!\w){_DEVELOP_VERB}(?:{_T}{_FILLER}){{0,5}}{_T}{_AI_PHRASE}"),
        # "development and improvement of generative AI models",
        # "l'amélioration de nos systèmes d'IA"
        (
            "develop-ai",
            rf"(?<!\w){_DEVELOP_NOUN}(?:{_T}{_FILLER}){{0,3}}{_T}(?:of|de|des|du|d)"
            rf"(?:{_T}{_FILLER}){{0,3}}{_T}{_AI_PHRASE}",
        ),
        # "model improvement", "AI development", "AI model training"
        ("develop-ai", rf"{_AI_OR_MODEL}{_T}(?:{_DEVELOP_NOUN})(?!\w)"),
        # "for machine learning purposes", "à des fins d'apprentissage automatique"
        (
            "ml-purpose",
            r"(?<!\w)(?:for|purposes?\s+of|fins\s+d|à\s+l|pour\s+l)\W+(?:\w+\W+){0,2}?"
            r"(?:machine[\s-]+learning|deep[\s-]+learning"
            r"|apprentissage\s+(?:automatique|profond|machine))(?!\w)",
        ),
    )
)

_DATA_NOUN = (
    r"(?:data|information|info|content|contents|posts?|comments?|messages?"
    r"|conversations?|chats?|prompts?|inputs?|outputs?|interactions?|activit(?:y|ies)"
    r"|photos?|pictures?|images?|videos?|audio|voice|recordings?|files?|documents?"
    r"|uploads?|submissions?|feedback|profiles?|searches|queries|emails?|materials?"
    r"|details|données|informations?|contenus?|publications?|commentaires?|échanges?"
    r"|requêtes?|invites?|saisies?|enregistrements?|fichiers?|profils?|activités?"
    r"|vidéos?)"
)
_DATA_WEAK = (
    r"(?:data|information|content|contents|materials|feedback|données|informations|contenus?)"
)
_OWNER = (
    r"(?:your|their|users?'?|members?'?|customers?'?|end[\s-]+users?'?|people's"
    r"|individuals'|subscribers'|participants'|account\s+holders'"
    r"|vos|votre|leurs|leur|ses|sa|son|tes|ta|ton)"
)
_SUBJECT = r"(?:you|we|users?|members?|people|customers?|they|vous|nous|utilisateurs|membres)"
_PROVIDE = (
    r"(?:collect(?:s|ed)?|provid(?:e|es|ed)|shar(?:e|es|ed)|submit(?:s|ted)?|post(?:s|ed)?"
    r"|creat(?:e|es|ed)|upload(?:s|ed)?|generat(?:e|es|ed)|enter(?:s|ed)?|send|sent"
    r"|receive[sd]?|fourni\w*|partag\w*|publi\w*|cré\w*|saisi\w*|transm\w*|collect\w*"
    r"|recueill\w*|téléchar\w*|génér\w*|envoy\w*)"
)
# Compounds where "data" is not the data: "the data controller".
_NOT_THE_DATA = (
    r"(?!\W+(?:controllers?|processors?|protection|subjects?|cent(?:er|re)s?|transfers?"
    r"|breach(?:es)?|retention|privacy|responsable|sous-traitants?))"
)

_DATA_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, flags))
    for name, pattern, flags in (
        (
            "personal-data",
            r"(?<!\w)(?:personal\s+(?:data|information|details)"
            r"|personally\s+identifiable\s+information|(?-i:PII)"
            r"|données\s+(?:personnelles|à\s+caractère\s+personnel)"
            r"|informations?\s+personnelles?|renseignements\s+personnels)(?!\w)",
            re.IGNORECASE,
        ),
        # "your public LinkedIn posts", "users' content", "vos contenus"
        (
            "possessive-data",
            rf"(?<!\w){_OWNER}(?:{_T}\w+){{0,2}}?{_T}{_DATA_NOUN}(?!\w)",
            re.IGNORECASE,
        ),
        (
            "possessive-data",
            rf"(?<!\w){_DATA_NOUN}\W+(?:des|de\s+nos|de\s+l|de\s+leurs)\W+"
            rf"(?:utilisateurs?|membres|clients|abonnés|personnes|internautes)(?!\w)",
            re.IGNORECASE,
        ),
        # "recordings of your calls", "le contenu de vos messages"
        (
            "possessive-data",
            rf"(?<!\w){_DATA_NOUN}\W+(?:of|from|de|d|des)\W+(?:your|users'?|vos|votre)(?!\w)",
            re.IGNORECASE,
        ),
        (
            "user-content",
            r"(?<!\w)(?:posts|comments|messages|conversations|chats|prompts|inputs"
            r"|interactions|uploads|photos|videos|audio|recordings|search\s+queries"
            r"|publications|commentaires|échanges|requêtes|invites|saisies)(?!\w)",
            re.IGNORECASE,
        ),
        # "the information we collect", "content you create", "this information"
        (
            "described-data",
            rf"(?<!\w)(?:the|this|that|these|those|such|said|ces|cette|ce|les|lesdites|lesdits)"
            rf"(?:{_T}\w+){{0,2}}?{_T}{_DATA_WEAK}(?!\w){_NOT_THE_DATA}",
            re.IGNORECASE,
        ),
        (
            "described-data",
            rf"(?<!\w){_DATA_NOUN}(?:{_T}\w+){{0,4}}?{_T}{_SUBJECT}"
            rf"(?:{_T}\w+){{0,4}}?{_T}{_PROVIDE}(?!\w)",
            re.IGNORECASE,
        ),
        (
            "described-data",
            rf"(?<!\w){_DATA_WEAK}\s+(?:about|from|of|on|concerning|relating\s+to|sur)\s+"
            rf"(?:you|your|users'?|our\s+users|members'?|vous|nos\s+utilisateurs)(?!\w)"
            r"|(?<!\w)(?:données|informations)\s+vous\s+concernant(?!\w)",
            re.IGNORECASE,
        ),
        # Published or public material: posts are users' content, and web
        # pages hold personal data. Void beside a negated data cue (below).
        (
            "public-data",
            r"(?<!\w)(?:publicly[\s-]+(?:available|shared|accessible)|public)"
            rf"(?:{_T}\w+)?{_T}(?:{_DATA_NOUN})(?!\w)"
            rf"|(?<!\w){_DATA_WEAK}\s+(?:that|which)(?:\s+is|'s|\s+are)\s+"
            r"(?:\w+\s+)?(?:publicly|public)(?!\w)"
            r"|(?<!\w)(?:données|informations|contenus?)\s+(?:\w+\s+)?(?:publi(?:c|ques)"
            r"|publiquement\s+(?:accessibles|disponibles))(?!\w)",
            re.IGNORECASE,
        ),
        # "Customer Content", "Service Generated Data" (case-sensitive)
        ("defined-term", r"(?<![\w-])(?:[A-Z][\w-]*\s+){1,3}(?:Data|Content|Information)\b", 0),
    )
)
# Data that is not personal (or not users'): the cue is void.
_ANONYMOUS = re.compile(
    r"anonym|aggregat|agrég|de-?identif|d[ée]sidentif|synth[ée]ti|non-?personal"
    r"|non\s+personnel",
    re.IGNORECASE,
)
# ... and, before the noun, "training data", "licensed data".
_NOT_PERSONAL = re.compile(_ANONYMOUS.pattern + r"|train|licen[cs]", re.IGNORECASE)
_LAST_TWO_WORDS = re.compile(r"(?:\S+\s+){0,2}$")
# "personal data in an aggregated or de-identified form"
# "personal data in an aggregated or de-identified form", "données anonymisées",
# "your data, once anonymized,"
_NEXT_WORDS = re.compile(
    r"\s+(?:in|under|sous)\s+(?:\S+\s+){0,4}?(?:form|forme)\b"
    r"|\W*(?:(?:once|when|after|une\s+fois)\s+)?\w+"
)
# Determiners that point back to data named before.
_ANAPHOR = re.compile(
    r"^(?:this|that|these|those|such|said|ces|cette|ce|lesdites|lesdits)\b", re.IGNORECASE
)

# --- negation ----------------------------------------------------------------

_NEGATION = re.compile(
    r"(?<!\w)(?:not|never|no\s+longer|no|none\s+of|cannot|neither|nor|aucun\w*|jamais"
    r"|nullement|en\s+aucun\s+cas)(?!\w)|n't(?!\w)|(?<!\w)n(?:e(?!\w)|')",
    re.IGNORECASE,
)
# Negations of the training act itself, close before it.
_EXCLUSION = re.compile(
    r"(?<!\w)(?:excluding|not\s+including|other\s+than|à\s+l'exclusion\s+de|hors)(?!\w)"
    r"|(?<!\w)(?:without|sans)\s+(?:\w+\s+)?(?:using|training|processing|sharing|feeding"
    r"|relying|exploiting|utilis\w*|exploit\w*|entra[iî]n\w*|recour\w*|partag\w*|trait\w*)"
    r"(?!\w)",
    re.IGNORECASE,
)
# The French negation closes with one of these ("ne ... pas").
_FRENCH_CLOSE = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:pas|jamais|plus|aucune?|aucunement|nullement|point|guère|rien)(?!\w)",
    re.IGNORECASE,
)
# Negations that bear on something else than the use.
_OTHER_HEAD = re.compile(
    r"^\W+(?:\w+ly\W+)?(?:only|limited|want|wish|opt|object|agree|consent|like|choose"
    r"|need|have\s+to)(?!\w)",
    re.IGNORECASE,
)
_FRENCH_OTHER_HEAD = re.compile(
    r"oppos\w*|souhait\w*|consent\w*|accept\w*|veu\w*|voul\w*|désactiv\w*|choisi\w*",
    re.IGNORECASE,
)
_BEFORE_NEGATION = re.compile(r"(?:whether\s+or|if)\W*$", re.IGNORECASE)
_USE = re.compile(
    r"(?<!\w)(?:us(?:e|es|ed|ing)|utili[sz](?:e|es|ed|ing)|train\w*|process\w*"
    r"|shar(?:e|es|ed|ing)|disclos\w*|sell|sold|licens\w*|feed|fed|leverag\w*|employ\w*"
    r"|analy[sz]\w*|allow\w*|permit\w*|let|utilis\w*|exploit\w*|entra[iî]n\w*|trait\w*"
    r"|partag\w*|communiqu\w*|vend\w*|recour\w*|serv\w*|sert|fourni\w*|transm\w*"
    r"|céd\w*|autoris\w*|permet\w*|affin\w*)(?!\w)",
    re.IGNORECASE,
)
# Where a negation's scope ends.
_CLAUSE_BREAK = re.compile(
    r"[;:]|(?<!\w)(?:but|however|although|though|whereas|while|yet|unless|instead|rather"
    r"|except|mais|cependant|toutefois|néanmoins|sauf|tandis|sinon|alors\s+que)(?!\w)"
    r"|,\s*(?:and\s+|et\s+)?(?:we|you|they|nous|vous|ils|elles|on)(?!\w)"
    r"|(?<!\w)(?:and|et)\s+(?:we|nous)(?!\w)",
    re.IGNORECASE,
)
# A data cue right after a negation ("not on your content", "no personal
# data", "aucune de vos données", "et non vos contenus"). French "pas" alone
# is not one: in "ne vendons pas vos données" it negates the verb.
_NEGATED_DATA = re.compile(
    r"(?<!\w)(?:not|never|none\s+of|no|non|mais\s+pas|pas\s+de|aucune?s?(?:\s+de)?|ni|jamais)"
    r"\W+(?:(?:on|from|with|using|of|in|sur|avec|à\s+partir\s+de)\W+)?"
    r"(?:(?:your|the|our|their|any|its|vos|votre|les|leurs|leur|ses|nos)\W+)?$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+")
_SCOPE_TOKENS = 4  # a use verb this close after a negation puts the clause in scope


def _tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _negated(text: str, start: int) -> bool:
    """Is the cue starting at ``start`` in the scope of a negation?"""
    before = text[:start]
    for match in _EXCLUSION.finditer(before):
        between = before[match.end() :]
        if not _CLAUSE_BREAK.search(between) and _tokens(between) <= 12:
            return True
    for match in _NEGATION.finditer(before):
        if _BEFORE_NEGATION.search(before[: match.start()]):
            continue  # "whether or not", "if not"
        after = text[match.end() :]
        word = match.group(0).casefold()
        if word in ("ne", "n'"):
            close = _FRENCH_CLOSE.match(after)
            if close is None or _FRENCH_OTHER_HEAD.search(close.group(0)):
                continue
            head = after[: close.end()]
            head_end = match.end() + close.end()
        else:
            if _OTHER_HEAD.match(after):
                continue
            head, head_end = "", match.end()
        if head_end > start:  # the cue is inside "ne ... pas": "n'entraînons pas"
            return True
        between = text[head_end:start]
        if _CLAUSE_BREAK.search(text[match.start() : start]):
            continue
        if _tokens(between) <= _SCOPE_TOKENS:
            return True  # "never trained", "not used for AI training"
        first = " ".join(_TOKEN.findall(head + " " + between)[: _SCOPE_TOKENS + 1])
        if _USE.search(first):
            return True  # "will not use X ... to train", "n'utilisons pas ... pour"
    return False


# --- analysis ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cue:
    rule: str
    text: str
    anaphoric: bool = False


@dataclass(frozen=True, slots=True)
class _Analysis:
    training: tuple[_Cue, ...]  # not negated
    data: tuple[_Cue, ...]  # not negated, personal

    def rule(self) -> str | None:
        if self.training and self.data:
            return f"{self.training[0].rule}/{self.data[0].rule}"
        return None

    def has_training(self) -> bool:
        return bool(self.training)

    def has_data(self) -> bool:
        return bool(self.data)

    def anaphoric_data_only(self) -> bool:
        return bool(self.data) and all(cue.anaphoric for cue in self.data)

    def cue_words(self) -> frozenset[str]:
        return frozenset(
            word for cue in (*self.training, *self.data) for word in sentence_key(cue.text).split()
        )


def _analyse(sentence: str) -> _Analysis:
    training = [
        _Cue(name, match.group(0))
        for name, pattern in _TRAINING_CUES
        for match in pattern.finditer(sentence)
        # Before the cue ("will not use ... to train") or inside it ("models
        # are not trained").
        if not (_negated(sentence, match.start()) or _negated(sentence, match.end()))
    ]
    data: list[_Cue] = []
    negated_data = False
    for name, pattern in _DATA_CUES:
        for match in pattern.finditer(sentence):
            if _not_personal(sentence, match):
                continue
            if _NEGATED_DATA.search(sentence[: match.start()]):
                negated_data = True
                continue
            data.append(_Cue(name, match.group(0), bool(_ANAPHOR.match(match.group(0)))))
    if negated_data:
        # "trained on public data, not on your content": a reassurance.
        data = [cue for cue in data if cue.rule != "public-data"]
    return _Analysis(tuple(training), tuple(data))


def _not_personal(sentence: str, match: re.Match[str]) -> bool:
    """Anonymized, aggregated, synthetic... data, said just before or after."""
    before = _LAST_TWO_WORDS.search(sentence[: match.start()])
    after = _NEXT_WORDS.match(sentence[match.end() :])
    return bool(
        _NOT_PERSONAL.search(before[0] if before else "")
        or _NOT_PERSONAL.search(match.group(0))
        or _ANONYMOUS.search(after[0] if after else "")
    )


def _classify_in_context(sentence: str, context: SentenceContext) -> tuple[str, _Analysis] | None:
    own = _analyse(sentence)
    rule = own.rule()
    if rule is not None:
        return rule, own
    if not (own.has_training() or own.has_data()):
        return None
    for lead_in in context.lead_ins:
        # The item completes the lead-in: read them as one sentence.
        joined = _analyse(f"{lead_in} {sentence}")
        rule = joined.rule()
        if rule is not None:
            return f"lead-in:{rule}", joined
    for cell in context.row:
        other = _analyse(cell)
        if own.has_training() and other.has_data():
            return f"table-row:{own.training[0].rule}/{other.data[0].rule}", own
        if own.has_data() and other.has_training():
            return f"table-row:{other.training[0].rule}/{own.data[0].rule}", own
    return None


_SIMILAR = 0.75  # difflib ratio on sentence keys from which a pair is a rewording


def _reworded(sentence: str, analysis: _Analysis, diff: DocumentDiff) -> bool:
    """Was a similar flagged sentence removed, whose cues cover this one's?

    Not when the old sentence also negated training and the new one does not:
    "we will not use X to train, unless ..." -> "we may use X to train" is the
    change to report, however alike the two sentences look.
    """
    words = analysis.cue_words()
    key = sentence_key(sentence)
    for index, removed in enumerate(diff.removed):
        old = _classify_in_context(removed, diff.context_of_removed(index))
        if old is None or not words <= old[1].cue_words():
            continue
        if _negates_training(removed) and not _negates_training(sentence):
            continue
        ratio = difflib.SequenceMatcher(None, key, sentence_key(removed), autojunk=False).ratio()
        if ratio >= _SIMILAR:
            return True
    return False


def _negates_training(sentence: str) -> bool:
    return any(
        _negated(sentence, match.start()) or _negated(sentence, match.end())
        for _, pattern in _TRAINING_CUES
        for match in pattern.finditer(sentence)
    )
