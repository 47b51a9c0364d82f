#!/usr/bin/env python3
"""Fixture weeks for the relevance benchmark (issue 15): what a DevOps newsletter editor's
feeds bring over nine weeks, and what the editor picked.  Standard library only; deterministic
for a given --seed.

    bench/weeks.py OUT_DIR [--seed 1] [--weeks 9]     # writes the fixtures to look at

`bench/relevance.py` imports `generate()` and serves the feeds itself; this entry point only
dumps them (feeds per week, the picks, the past issues) for reading.

The world
  * ~60 feeds of the kinds a DevOps newsletter follows: engineering blogs (some the editor
    trusts, some mediocre), personal blogs, vendor blogs, GitHub releases, a "new tools" feed,
    two job boards (one curated, one an aggregator), conference sites, tech news, slide decks.
  * Each week 170-230 stories: deep engineering posts (incidents, deploy pipelines, databases,
    on-call, testing...), team and hiring posts, vendor pitches stuffed with the profile's
    words (launches, "N reasons your company needs DevOps", webinar recordings, free e-books,
    press kits), patch releases and first releases of tools, CFPs and conference videos, job
    ads, gadget/funding/crypto news, beginner tutorials.
  * The editor (hidden from gleaner: it only ever sees the decisions) values a story by its
    kind, its topic, its source and a little noise, and picks the best 14 of the week with
    section quotas: 8 News, 3 Tools, 2 Events, 1 Jobs.  Many good stories are not picked.
  * Weeks 1-3 are the back catalogue: their picks, with the blurbs the editor wrote, become
    past issues (issue-1.md and issue-2.md in the shape `gleaner draft` writes, issue-3.html
    as a sent e-mail with its furniture).  Weeks 4-9 are replayed.

The keyword profile is not here: the runner uses the [keywords] of the repository's
feeds.toml, written before any of this.
"""

import argparse
import datetime as dt
import json
import os
import random
from dataclasses import dataclass, field
from html import escape

START = dt.datetime(2026, 8, 3, tzinfo=dt.timezone.utc)  # a Monday: week 1
PICKS = {"News": 8, "Tools": 3, "Events": 2, "Jobs": 1}
NOISE = 0.3  # how much the week's mood moves the editor's value of a story
TITLE = "DevOps Weekly"

SERVICES = ["checkout", "search", "payments", "login", "the API gateway", "the build farm",
            "notifications", "the mobile API", "billing", "the CDN edge", "image uploads",
            "the job queue", "the internal DNS", "feature flags", "the data pipeline"]
CAUSES = ["a bad config push", "an expired TLS certificate", "a DNS change", "a full disk",
          "a runaway cron job", "connection pool exhaustion", "a retry storm",
          "a schema migration", "a clock skew bug", "a noisy neighbour", "a leaked file handle",
          "a cache stampede", "a BGP route leak", "an unbounded queue"]
TECH = ["Postgres", "MySQL", "Kafka", "Redis", "nginx", "Envoy", "Terraform", "Kubernetes",
        "Consul", "Vault", "Prometheus", "Grafana", "Ansible", "Jenkins", "GitHub Actions",
        "Elasticsearch", "etcd", "HAProxy", "systemd", "Nomad"]
MINUTES = [12, 18, 25, 37, 45, 52, 70, 95, 140, 180]
MONTHS = ["June", "July", "August", "September", "October"]

# Deep engineering topics: the editor's affinity (hidden) and how posts about them read.
TOPICS = {
    "incident": dict(affinity=2.2, titles=[
        "What happened during our {m}-minute {svc} outage",
        "Incident review: how {cause} took down {svc}",
        "The {svc} outage of {month}: a timeline",
        "Postmortem: {svc} degraded for {m} minutes",
        "How {cause} broke {svc} for {m} minutes",
        "Lessons from a {m}-minute outage of {svc}"],
        body=["On a {day} afternoon {svc} started failing for a share of our customers.",
              "The root cause was {cause}, which we had not seen before.",
              "Our alerts fired within two minutes, but the pager went to the wrong rotation.",
              "We rolled back the change after {m} minutes and the error rate dropped.",
              "The timeline below shows what we knew at each point and what we did.",
              "We have since added a canary stage and a runbook for this failure mode.",
              "Nobody was blamed: the system made the mistake easy to make.",
              "We publish a postmortem for every incident that pages someone.",
              "The on-call engineer was paged at 3am.",
              "The deploy that triggered it had passed every check.",
              "Our SRE team ran the incident review the next morning.",
              "The contributing factors were as interesting as the trigger."]),
    "deploy": dict(affinity=1.7, titles=[
        "How we deploy {svc} {n} times a day",
        "Moving our deploy pipeline from {tech} to {tech2}",
        "Canary releases for {svc} with {tech}",
        "Rolling back in seconds: our release pipeline",
        "Continuous delivery for a monolith: what worked for us",
        "Shipping {svc} behind feature flags"],
        body=["Every merge to main now goes to production without a human pressing a button.",
              "The pipeline builds once and promotes the same artifact through each stage.",
              "A canary takes five percent of traffic for ten minutes before the rollout continues.",
              "We moved from {tech} to {tech2} and cut build times from twenty minutes to six.",
              "Rollbacks are one command and take under a minute.",
              "Feature flags let us separate deploying code from releasing features.",
              "The hardest part was the database migrations, not the tooling.",
              "Continuous delivery changed how the whole team works.",
              "We deploy smaller changes, so each deploy is less risky.",
              "Most services run on Kubernetes, a few legacy ones on plain VMs.",
              "Continuous deployment only works if rollback is boring."]),
    "database": dict(affinity=1.6, titles=[
        "Upgrading {dbtech} with zero downtime",
        "How we run {dbtech} failover across regions",
        "Vacuum, bloat and a {dbtech} cluster at 40 TB",
        "Sharding {svc} on {dbtech}",
        "What we learned from a year of {dbtech} on-call"],
        body=["Our primary {dbtech} cluster serves about 80,000 queries per second at peak.",
              "Failover used to take eleven minutes; it now takes under thirty seconds.",
              "Replication lag was the signal we had been ignoring.",
              "We rehearsed the upgrade four times against a copy of production.",
              "Connection pooling in front of the database saved us during traffic spikes.",
              "Backups are only real once you have restored one.",
              "The on-call engineer can run the failover from a runbook.",
              "We run Postgres on dedicated hosts, not on Kubernetes.",
              "Schema changes deploy separately from code changes."]),
    "oncall": dict(affinity=1.8, titles=[
        "Making on-call humane at {company}",
        "Fewer pages, better sleep: a year of alert hygiene",
        "What our on-call rotation taught us about ownership",
        "Paging on symptoms, not causes",
        "The cost of a noisy pager"],
        body=["Last year the average engineer on call was woken up three times a week.",
              "We deleted forty percent of our alerts and nothing bad happened.",
              "Every page now links to a runbook and has an owner.",
              "Handovers happen in a short written note at the end of each shift.",
              "Being on call is paid and the rotation is never smaller than six people.",
              "Alert fatigue is a reliability problem, not a personal one.",
              "The SRE team owns the paging tooling, every team owns its alerts.",
              "A quiet on-call week is the goal, not a sign of luck.",
              "Every page that woke someone gets a short postmortem."]),
    "observability": dict(affinity=1.3, titles=[
        "Tracing {svc} end to end with OpenTelemetry",
        "High-cardinality metrics without the bill",
        "Structured logging at {company}",
        "SLOs for {svc}: choosing what to measure",
        "From dashboards to questions: debugging {svc}"],
        body=["We added tracing to every service that {svc} calls.",
              "Our error budget policy decides when we stop shipping features.",
              "Logs are structured JSON with a request id in every line.",
              "We keep raw events for seven days and aggregates for a year.",
              "The latency histogram showed a second mode nobody had noticed.",
              "Sampling decisions are made at the tail, after we know a request was slow.",
              "Observability for us means being able to ask questions we did not plan for.",
              "Each deploy is marked on every graph.",
              "The on-call engineer starts from the SLO dashboard."]),
    "testing": dict(affinity=1.4, titles=[
        "Our first chaos game day",
        "Testing in production, safely",
        "Killing flaky tests at {company}",
        "Load testing {svc} before the holiday peak",
        "Game days: breaking {svc} on purpose"],
        body=["We broke {svc} on purpose during a game day and watched what happened.",
              "Half of our assumptions about failover turned out to be wrong.",
              "Flaky tests were costing every engineer forty minutes a day.",
              "The load test found a lock contention problem at twice normal traffic.",
              "We now run a small chaos experiment every week during working hours.",
              "The scenarios, roles and the checklist we used are at the end of this post.",
              "Every deploy now runs the full suite in under ten minutes.",
              "The on-call engineer for the day runs the experiment.",
              "We write a short postmortem for every game day."]),
    "infra": dict(affinity=1.2, titles=[
        "Refactoring {n} thousand lines of {tech}",
        "Our {tech} module library, two years in",
        "Infrastructure as code for {svc}",
        "Drift detection with {tech}",
        "Managing secrets with {tech2} at {company}"],
        body=["Every change to the infrastructure goes through a pull request and a plan.",
              "We split one giant state file into forty small ones.",
              "Drift is detected nightly and reported to the owning team.",
              "Module versions are pinned and upgraded by a bot.",
              "Secrets never touch a developer laptop.",
              "The migration took three months and two people.",
              "All of it is infrastructure as code, reviewed like any other code.",
              "Terraform plans are posted on every pull request.",
              "The Kubernetes clusters themselves are built from the same modules."]),
    "capacity": dict(affinity=1.3, titles=[
        "Capacity planning for {svc}",
        "Load shedding at the edge",
        "Autoscaling {svc} on the right signal",
        "Surviving a ten times traffic spike",
        "Backpressure in the job queue"],
        body=["CPU was the wrong signal to scale on: queue depth was the right one.",
              "We shed low-priority traffic first when the system is overloaded.",
              "The forecast uses the last two years of traffic and the marketing calendar.",
              "A token bucket in front of {svc} keeps one customer from starving the rest.",
              "Retries with jitter and a budget stopped the retry storms.",
              "Our SRE team runs the capacity review every quarter.",
              "The Kubernetes autoscaler reacts in under a minute.",
              "On-call gets an alert before the queue is full, not after."]),
    "culture": dict(affinity=1.1, titles=[
        "Blameless is not enough",
        "What a platform team is for",
        "Writing runbooks people actually read",
        "Operational reviews that are not boring",
        "DevOps is a team sport: our first year"],
        body=["A platform team builds paved roads, not walls.",
              "Our weekly operational review looks at one incident in depth.",
              "Runbooks are tested like code: someone new follows them every quarter.",
              "Ownership means the team that builds a service also runs it.",
              "We measure lead time, deploy frequency, change failure rate and time to restore."]),
    "k8s_basics": dict(affinity=0.2, titles=[
        "Getting started with Kubernetes",
        "Kubernetes for beginners: pods, services and deployments",
        "What is Kubernetes? A simple explanation",
        "Kubernetes vs Docker: what's the difference",
        "10 kubectl commands every developer should know"],
        body=["Kubernetes is an open source system for running containers.",
              "A pod is the smallest unit you can deploy on Kubernetes.",
              "In this tutorial we will deploy a simple app to a Kubernetes cluster.",
              "Kubernetes makes continuous deployment easier for your team.",
              "First, install kubectl and minikube on your laptop.",
              "If you liked this tutorial, share it with your friends."]),
}

# Kinds of non-technical posts, with how they read.
TEAM = dict(titles=["We're hiring: join the {company} platform team",
                    "Meet the team: {company} infrastructure",
                    "Highlights from our summer hackathon",
                    "{company} at {conf}: come say hi",
                    "Our engineering ladder, published",
                    "Welcoming our new VP of Engineering"],
            body=["We are growing and looking for curious people.",
                  "Come and find us at booth 12.",
                  "Thanks to everyone who joined us.",
                  "Our team works across four time zones.",
                  "We believe great engineering starts with great people.",
                  "See our careers page for open roles."])
VENDOR = dict(titles=["5 reasons your company needs {product} for Kubernetes",
                      "Announcing {product} {ver}: continuous delivery for the enterprise",
                      "Webinar recording: observability best practices with {product}",
                      "Free e-book: the definitive guide to infrastructure as code",
                      "{vendor} named a leader in continuous deployment",
                      "Press release: {vendor} raises Series C to accelerate DevOps",
                      "Why enterprises choose {product} for Terraform at scale",
                      "{product} now integrates with Kubernetes and Terraform",
                      "The ultimate DevOps checklist for 2027",
                      "How {product} helps SRE teams deploy faster",
                      "Join our live demo: Kubernetes observability in 30 minutes",
                      "Customer story: {customer} deploys 10x faster with {product}"],
              body=["{product} brings Kubernetes, continuous delivery and observability together in one platform.",
                    "Enterprises trust {product} to deploy faster and reduce risk.",
                    "Request a demo today and see {product} in action.",
                    "Download the free e-book to learn more about infrastructure as code.",
                    "Register now to watch the webinar on demand.",
                    "Start your free trial of {product}: no credit card required.",
                    "Our award-winning platform helps SRE and DevOps teams deploy with confidence.",
                    "Kubernetes observability has never been easier.",
                    "Contact our sales team for pricing and a personalized demo.",
                    "{vendor} is the leading provider of continuous deployment and Terraform automation."])
NEWS_OFF = dict(titles=["{phone} review: a better camera and not much else",
                        "{startup} raises ${n} million for AI-powered {thing}",
                        "Bitcoin passes ${n} thousand again",
                        "The best laptops for developers in 2026",
                        "{bigco} reports record quarter on cloud growth",
                        "New NFT marketplace launches on Ethereum",
                        "{bigco} announces layoffs in its devices division",
                        "Smart watches are getting smarter",
                        "Crypto exchange {startup} halts withdrawals",
                        "{bigco} unveils a new AI assistant"],
                body=["The company said the new model would ship next month.",
                      "Analysts expect the market to grow twenty percent next year.",
                      "The funding round was led by a group of venture firms.",
                      "Prices start at $999 in the US.",
                      "Investors reacted cautiously to the news.",
                      "The announcement came at the company's annual event."])
RELEASES = dict(patch=["{tool} {ver}: bug fixes", "{tool} {ver}", "{tool} {ver}: fix a crash on startup",
                       "{tool} {ver}: dependency updates", "{tool} {ver}: documentation fixes"],
                major=["{tool} {ver}: a new plugin system and faster startup",
                       "{tool} {ver} released with native ARM builds and a rewritten scheduler"],
                first=["{tool} 1.0: the first stable release",
                       "{tool}: a new open source {what}"],
                patch_body=["Fixed a crash when the config file is empty.", "Updated dependencies.",
                            "Minor documentation fixes.", "Thanks to all contributors."],
                major_body=["This release adds a plugin system.", "Startup is three times faster.",
                            "ARM builds are now published for every release.",
                            "The scheduler was rewritten from scratch.", "See the changelog for upgrade notes."],
                first_body=["{tool} is a small command-line tool that {does}.",
                            "It is a single static binary with no dependencies.",
                            "We built {tool} because nothing else did this well.",
                            "It is open source under the {license} license.",
                            "Install it with one command and try it on your own setup.",
                            "{tool} is written in {lang} and runs on Linux and macOS.",
                            "The {what} we used before was too slow for {n} hosts.",
                            "Configuration is one YAML file; the defaults are sensible.",
                            "Contributions and bug reports are welcome on GitHub.",
                            "Version 1.0 means the command-line interface is now stable."])
TOOL_WHAT = [("cli for diffing cloud permissions", "shows who can do what across your cloud accounts"),
             ("log viewer for the terminal", "tails and filters structured logs from many hosts at once"),
             ("load generator", "replays production traffic against a staging copy"),
             ("TLS certificate checker", "warns you weeks before a certificate expires anywhere in your fleet"),
             ("runbook runner", "turns Markdown runbooks into checklists you can execute step by step"),
             ("container image slimmer", "removes what your images never use"),
             ("status page generator", "builds a static status page from your health checks"),
             ("cron monitor", "alerts when a scheduled job did not run"),
             ("dependency graph explorer", "draws which services call which from your traces"),
             ("SQL migration linter", "catches locking migrations before they reach production"),
             ("secrets scanner", "finds keys and tokens committed to your repositories"),
             ("chaos toolkit", "injects latency and failures into your services during game days"),
             ("DNS diff tool", "shows what a DNS change will do before you make it"),
             ("build cache server", "shares compiled artifacts across your CI runners"),
             ("incident timeline bot", "records what happens in the incident channel as a timeline"),
             ("config drift detector", "compares running servers with what your code says"),
             ("Kubernetes event exporter", "keeps Kubernetes events long after the cluster forgets them"),
             ("Terraform plan viewer", "renders a Terraform plan as a reviewable page"),
             ("deploy notifier", "posts every deploy to chat with a link to its diff"),
             ("on-call handover tool", "writes the on-call handover note from the week's pages")]
TOOL_NAMES = ["kubeshark", "logtide", "certwatch", "runbookr", "slimbox", "statusgen", "cronitor-lite",
              "tracemap", "migralint", "keyhound", "chaoskit", "dnsdiff", "cachedrone", "timelinebot",
              "driftwatch", "permdiff", "flagpole", "queuectl", "pgshift", "envsync", "deploybot",
              "rollout-rs", "alertlint", "slo-calc", "tfdocs-lite", "helmfmt", "graphlog", "netprobe"]
EVENTS = dict(cfp=["CFP open: {conf} {year}", "{conf} {year}: call for proposals closes {month} 30",
                   "Submit a talk to {conf} {year}"],
              videos=["Videos from {conf} {year} are online", "{conf} {year}: all the talks, recorded"],
              promo=["Early-bird tickets for {conf} {year}", "{conf} {year} sponsor prospectus",
                     "Last chance: {conf} {year} tickets", "{conf} {year} venue announced"],
              cfp_body=["We want talks about SRE, on-call, observability and the people who do the work.",
                        "First-time speakers are welcome and we offer mentoring.",
                        "The call for proposals is open until the end of {month}."],
              videos_body=["All {n} talks from this year's event are now on our video channel.",
                           "Slides are linked from each talk page.",
                           "Thanks to our speakers and volunteers."],
              promo_body=["Tickets are limited: book now.", "Sponsorship packages start at $5,000.",
                          "The venue is five minutes from the central station."])
JOBS = dict(good=["Senior SRE at {company} (remote)", "Platform engineer at {company}, remote in Europe",
                  "Staff infrastructure engineer at {company} (remote, four-day week)",
                  "On-call lead at {company}, remote"],
            spam=["DevOps Engineer - Kubernetes, Terraform, AWS - Immediate Start",
                  "Urgent: SRE / DevOps / Cloud Engineer needed",
                  "Kubernetes DevOps Engineer - Contract - Hybrid",
                  "Senior DevOps Engineer (Terraform, Kubernetes, CI/CD)"],
            good_body=["You will own our deploy pipeline and the on-call rotation with five others.",
                       "We publish salary ranges: this role pays well and is fully remote.",
                       "Our incident reviews are public and blameless.",
                       "We are a small team that cares about sustainable on-call."],
            spam_body=["Our client is looking for a DevOps engineer with Kubernetes and Terraform skills.",
                       "Must have 5+ years of DevOps, SRE, Kubernetes, Terraform, CI/CD experience.",
                       "Apply now, immediate start, competitive rate.",
                       "Deploy, deploy, deploy: experience with continuous deployment required."])
TOOL_PREFIX = ["kube", "log", "cert", "run", "slim", "status", "cron", "trace", "migra", "key",
               "chaos", "dns", "cache", "flag", "queue", "drift", "perm", "net", "pg", "env"]
TOOL_SUFFIX = ["hound", "ctl", "watch", "kit", "lint", "scope", "pilot", "smith", "probe", "box"]
DECK = dict(titles=["Slides: {topic_title}", "Deck: {topic_title} (talk at {conf})"])

COMPANIES_TRUSTED = ["Acme", "Shopfront", "Ridehail", "Streamly", "Bankly", "Mapworks", "Ticketry"]
COMPANIES_MEH = ["Blogcorp", "Adnet", "Travelo", "Fooddash", "Gamesy", "Photon", "Insureco"]
VENDORS = [("CloudCo", "CloudCo Platform"), ("DeployPro", "DeployPro"), ("MonitorMax", "MonitorMax APM"),
           ("K8sSuite", "K8sSuite Enterprise"), ("InfraGenie", "InfraGenie"), ("PipeRocket", "PipeRocket CI"),
           ("Observio", "Observio"), ("SecureStack", "SecureStack")]
PEOPLE_GOOD = ["Jane Kim", "Tom Okafor", "Priya Raman", "Lars Berg"]
PEOPLE_MIXED = ["Sam Ortiz", "Mia Chen", "Alex Novak", "Ruth Adler"]
CONFS = ["DevOpsDays Ghent", "SREcon Europe", "Monitorama", "LISA", "KubeCon", "Config Management Camp"]
BIGCOS = ["Globex", "Initech", "Hooli", "Umbrella", "Soylent"]
STARTUPS = ["Zapply", "Quantix", "Mintly", "Coinly", "Brightr"]
PHONES = ["Pixelphone 9", "Galaxy Z", "iPhone 18", "Nothing Phone 4"]
THINGS = ["sales emails", "recipes", "dating", "legal contracts", "spreadsheets"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass
class Feed:
    slug: str
    name: str
    kind: str
    host: str
    section: str | None = None   # in feeds.toml (job boards, conferences, releases)
    trust: float = 0.0           # the editor's (hidden) trust in the source
    company: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Story:
    id: str
    week: int
    feed: str
    title: str
    url: str
    body: str
    published: dt.datetime
    section: str                 # where the editor would put it
    value: float                 # the editor's (hidden) value this week
    expected: float              # ... without the week's mood
    kind: str
    author: str | None = None
    also: list = field(default_factory=list)   # other feeds that carry the same link
    pick: bool = False
    blurb: str = ""


def feeds():
    out = []
    for c in COMPANIES_TRUSTED:
        out.append(Feed(f"{c.lower()}-eng", f"{c} Engineering", "eng", f"eng.{c.lower()}.example",
                        trust=0.8, company=c))
    for c in COMPANIES_MEH:
        out.append(Feed(f"{c.lower()}-tech", f"{c} Tech Blog", "eng", f"tech.{c.lower()}.example",
                        trust=-0.2, company=c))
    for p in PEOPLE_GOOD:
        s = p.split()[0].lower()
        out.append(Feed(f"{s}-blog", f"{p}", "person", f"{s}.blog.example", trust=0.7))
    for p in PEOPLE_MIXED:
        s = p.split()[0].lower()
        out.append(Feed(f"{s}-blog", f"{p}'s blog", "person", f"{s}.blog.example", trust=-0.1))
    for v, product in VENDORS:
        out.append(Feed(f"{v.lower()}-blog", f"{v} Blog", "vendor", f"www.{v.lower()}.example",
                        trust=-1.0, company=v, extra={"product": product}))
    for i in range(12):
        tool = TOOL_NAMES[i]
        out.append(Feed(f"gh-{tool}", f"{tool} releases", "release", "github.com", section="Tools",
                        trust=0.0, company=tool))
    out.append(Feed("new-tools", "Open Source Ops Tools", "tools", "opstools.example", section="Tools", trust=0.3))
    out.append(Feed("remote-jobs", "Remote Ops Jobs", "jobs_good", "remoteopsjobs.example", section="Jobs", trust=0.5))
    out.append(Feed("job-agg", "JobFeed DevOps", "jobs_spam", "jobfeed.example", section="Jobs", trust=-1.0))
    for c in CONFS[:3]:
        s = c.lower().replace(" ", "-")
        out.append(Feed(f"conf-{s}", c, "conf", f"{s}.example", section="Events", trust=0.3, company=c))
    for n in ["The Tech Daily", "Gadget Report", "Startup Wire", "Cloud News Now", "Enterprise IT Weekly"]:
        s = n.lower().replace(" ", "-")
        out.append(Feed(s, n, "news", f"{s}.example", trust=-0.8))
    out.append(Feed("slidedecks", "Ops Slide Decks", "deck", "slides.example", trust=0.1))
    out.append(Feed("k8s-tutorials", "Kube Tutorials", "tutorial", "kubetutorials.example", trust=-0.5))
    out.append(Feed("devops-digest", "DevOps Digest", "tutorial", "devopsdigest.example", trust=-0.5))
    return out


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0
        self.feeds = feeds()
        self.by_slug = {f.slug: f for f in self.feeds}
        self.tool_versions = {}
        self.titles = set()
        self.tool_what = {}
        # Names for new tools: never the same twice.
        self.first_tools = [a + b for a in TOOL_PREFIX for b in TOOL_SUFFIX]
        self.r.shuffle(self.first_tools)

    def slots(self, company=""):
        r = self.r
        tech, tech2 = r.sample(TECH, 2)
        return dict(svc=r.choice(SERVICES), cause=r.choice(CAUSES), tech=tech, tech2=tech2,
                    dbtech=r.choice(["Postgres", "MySQL", "Cassandra", "Redis"]),
                    m=r.choice(MINUTES), month=r.choice(MONTHS), n=r.choice([3, 7, 12, 20, 40, 50, 80]),
                    company=company or r.choice(COMPANIES_TRUSTED), day=r.choice(DAYS),
                    conf=r.choice(CONFS), year=2027, phone=r.choice(PHONES), startup=r.choice(STARTUPS),
                    bigco=r.choice(BIGCOS), thing=r.choice(THINGS))

    def text(self, sentences, k, s):
        picked = self.r.sample(sentences, min(k, len(sentences)))
        return " ".join(x.format(**s) for x in picked)

    def story(self, week, feed, kind, title, body, value, section, author=None):
        self.n += 1
        r = self.r
        # Real titles are not repeated across sources and weeks (gleaner would rightly group
        # two stories with the same title as one).
        base, k = title, 1
        while title.lower() in self.titles:
            k += 1
            title = f"{base}{[' (part 2)', ', revisited', ': a follow-up', ' at ' + (feed.company or feed.name), f' ({k})'][min(k - 2, 4)]}"
        self.titles.add(title.lower())
        monday = START + dt.timedelta(days=7 * (week - 1))
        published = monday + dt.timedelta(minutes=r.randrange(0, 6 * 24 * 60 + 14 * 60))
        slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
        slug = "-".join(x for x in slug.split("-") if x)[:60]
        host = feed.host
        if feed.kind == "release":
            url = f"https://github.com/{feed.company}/{feed.company}/releases/tag/{self.n}"
        elif feed.kind == "tools":
            url = f"https://github.com/{title.split()[0].rstrip(':').lower()}/{title.split()[0].rstrip(':').lower()}"
        else:
            url = f"https://{host}/{week:02d}/{slug}-{self.n}"
        return Story(id=f"s{self.n}", week=week, feed=feed.slug, title=title, url=url, body=body,
                     published=published, section=section, value=value + r.gauss(0, NOISE),
                     expected=value, kind=kind, author=author)

    def eng_post(self, week, feed, deep_share):
        r = self.r
        s = self.slots(feed.company)
        if r.random() < deep_share:
            weights = {"incident": 3, "deploy": 3, "database": 2, "oncall": 2, "observability": 3,
                       "testing": 2, "infra": 3, "capacity": 2, "culture": 2, "k8s_basics": 1}
            topic = r.choices(list(weights), weights=list(weights.values()))[0]
            t = TOPICS[topic]
            title = r.choice(t["titles"]).format(**s)
            body = self.text(t["body"], r.randint(5, 7), s)
            value = t["affinity"] + feed.trust
            return self.story(week, feed, "deep:" + topic, title, body, value, "News")
        title = r.choice(TEAM["titles"]).format(**s)
        body = self.text(TEAM["body"], r.randint(3, 4), s)
        return self.story(week, feed, "team", title, body, -1.0, "News")

    def vendor_post(self, week, feed):
        r = self.r
        s = self.slots()
        s.update(product=feed.extra["product"], vendor=feed.company, ver=f"{r.randint(2, 9)}.{r.randint(0, 9)}",
                 customer=r.choice(COMPANIES_MEH))
        if r.random() < 0.12:
            # Now and then a vendor writes something real.
            topic = r.choice(["incident", "observability", "deploy", "database"])
            t = TOPICS[topic]
            title = r.choice(t["titles"]).format(**s)
            body = self.text(t["body"], 4, s) + " " + self.text(VENDOR["body"], 1, s)
            return self.story(week, feed, "vendor-real", title, body, t["affinity"] - 0.6, "News")
        title = r.choice(VENDOR["titles"]).format(**s)
        body = self.text(VENDOR["body"], r.randint(3, 5), s)
        return self.story(week, feed, "vendor", title, body, -2.0, "News")

    def release(self, week, feed):
        r = self.r
        tool = feed.company
        major, minor, patch = self.tool_versions.get(tool, (r.randint(0, 3), r.randint(0, 12), 0))
        x = r.random()
        if x < 0.12:
            major, minor, patch = major + 1, 0, 0
            title = r.choice(RELEASES["major"]).format(tool=tool, ver=f"v{major}.0.0")
            body = self.text(RELEASES["major_body"], 3, {})
            kind, value = "release-major", 1.4
        elif x < 0.4:
            minor, patch = minor + 1, 0
            title = f"{tool} v{major}.{minor}.0"
            body = self.text(RELEASES["major_body"], 2, {})
            kind, value = "release-minor", 0.2
        else:
            patch += 1
            title = r.choice(RELEASES["patch"]).format(tool=tool, ver=f"v{major}.{minor}.{patch}")
            body = self.text(RELEASES["patch_body"], 2, {})
            kind, value = "release-patch", -0.8
        self.tool_versions[tool] = (major, minor, patch)
        return self.story(week, feed, kind, title, body, value, "Tools")

    def new_tool(self, week, feed):
        r = self.r
        tool = self.first_tools.pop()
        what, does = r.choice(TOOL_WHAT)
        title = r.choice(RELEASES["first"]).format(tool=tool, what=what)
        body = self.text(RELEASES["first_body"], 4, {"tool": tool, "does": does, "what": what,
                                                     "license": r.choice(["MIT", "Apache 2.0", "BSD"]),
                                                     "lang": r.choice(["Go", "Rust", "Python"]),
                                                     "n": r.choice([200, 1500, 10000])})
        return self.story(week, feed, "tool-new", title, body, 1.9, "Tools")

    def event(self, week, feed):
        r = self.r
        s = self.slots()
        s.update(conf=feed.company)
        kind = r.choices(["cfp", "videos", "promo"], weights=[2, 1, 4])[0]
        title = r.choice(EVENTS[kind]).format(**s)
        body = self.text(EVENTS[kind + "_body"], 2, s)
        value = {"cfp": 1.8, "videos": 1.6, "promo": -0.5}[kind]
        return self.story(week, feed, "event-" + kind, title, body, value, "Events")

    def job(self, week, feed, good):
        r = self.r
        s = self.slots(r.choice(COMPANIES_TRUSTED + COMPANIES_MEH))
        if good:
            title = r.choice(JOBS["good"]).format(**s)
            body = self.text(JOBS["good_body"], 3, s)
            value = 1.2
        else:
            title = r.choice(JOBS["spam"]).format(**s)
            body = self.text(JOBS["spam_body"], 3, s)
            value = -1.5
        return self.story(week, feed, "job-good" if good else "job-spam", title, body, value, "Jobs")

    def news(self, week, feed):
        r = self.r
        s = self.slots()
        title = r.choice(NEWS_OFF["titles"]).format(**s)
        body = self.text(NEWS_OFF["body"], 3, s)
        return self.story(week, feed, "offtopic", title, body, -2.0, "News")

    def tutorial(self, week, feed):
        r = self.r
        s = self.slots()
        t = TOPICS["k8s_basics"]
        title = r.choice(t["titles"]).format(**s)
        body = self.text(t["body"], 4, s)
        return self.story(week, feed, "tutorial", title, body, -0.8, "News")

    def deck(self, week, feed):
        r = self.r
        s = self.slots()
        topic = r.choice(["incident", "deploy", "oncall", "observability", "testing", "culture", "k8s_basics"])
        t = TOPICS[topic]
        tt = r.choice(t["titles"]).format(**s)
        title = r.choice(DECK["titles"]).format(topic_title=tt, **{k: v for k, v in s.items() if k != "topic_title"})
        body = self.text(t["body"], 2, s)
        return self.story(week, feed, "deck:" + topic, title, body, t["affinity"] - 0.5, "News")

    def week(self, w):
        r = self.r
        out = []
        for f in self.feeds:
            k = f.kind
            if k == "eng":
                n = r.choice([2, 3, 3, 4]) if f.trust > 0 else r.choice([1, 2, 3])
                out += [self.eng_post(w, f, 0.75 if f.trust > 0 else 0.45) for _ in range(n)]
            elif k == "person":
                n = r.choice([0, 1, 2, 2])
                for _ in range(n):
                    if f.trust < 0 and r.random() < 0.5:
                        s = self.slots()
                        title = r.choice(["Photos from {month} in Lisbon", "My home office setup",
                                          "Books I read in {month}", "Why I switched keyboards"]).format(**s)
                        out.append(self.story(w, f, "personal-off", title,
                                              "A personal post. Thanks for reading.", -1.5, "News",
                                              author=f.name.split("'")[0]))
                    else:
                        st = self.eng_post(w, f, 1.0)
                        st.author = f.name.split("'")[0]
                        out.append(st)
            elif k == "vendor":
                out += [self.vendor_post(w, f) for _ in range(r.choice([0, 1, 1, 2]))]
            elif k == "release":
                out += [self.release(w, f) for _ in range(r.choice([0, 1, 1, 2]))]
            elif k == "tools":
                out += [self.new_tool(w, f) for _ in range(r.choice([3, 4, 5]))]
            elif k == "jobs_good":
                out += [self.job(w, f, True) for _ in range(r.choice([2, 3]))]
            elif k == "jobs_spam":
                out += [self.job(w, f, False) for _ in range(r.choice([2, 3, 4]))]
            elif k == "conf":
                out += [self.event(w, f) for _ in range(r.choice([1, 1, 2]))]
            elif k == "news":
                out += [self.news(w, f) for _ in range(r.choice([14, 16, 18]))]
            elif k == "deck":
                out += [self.deck(w, f) for _ in range(r.choice([2, 3, 4]))]
            elif k == "tutorial":
                out += [self.tutorial(w, f) for _ in range(r.choice([0, 1, 2]))]
        # Aggregators repost a few of the week's links.
        deep = [s for s in out if s.kind.startswith("deep:")]
        for s in r.sample(deep, min(3, len(deep))):
            s.also.append("devops-digest")
        # The editor's picks: the best of the week by (hidden) value, by section quota.
        # Only what the editor finds good enough (value > 0.8); a section short of it gives
        # its place to News.
        for s in out:
            if s.id in choose(out, {s.id: s.value for s in out}):
                s.pick = True
                s.blurb = self.blurb(s)
        out.sort(key=lambda s: s.published)
        return out

    def blurb(self, s):
        r = self.r
        f = self.by_slug[s.feed]
        who = s.author or f.company or f.name
        first = s.body.split(". ")[0].rstrip(".")
        lead = r.choice([f"{who} on {s.title[0].lower() + s.title[1:]}",
                         f"A write-up from {who}: {s.title}",
                         f"{s.title}, from {who}"])
        tail = r.choice(["Worth reading for the details.", "A good one to share with your team.",
                         "Lots of practical detail here.", "I liked the honesty of this one.",
                         "Recommended."])
        return f"{lead}. {first}. {tail}"


def choose(stories, value):
    """The editor's picks given each story's value: the best of each section by quota, only
    what is good enough (value > 0.8); a section short of it gives its places to News."""
    picked, spare = set(), 0
    for section in ["Tools", "Events", "Jobs", "News"]:
        quota = PICKS[section] + (spare if section == "News" else 0)
        pool = sorted((s for s in stories if s.section == section and value[s.id] > 0.8),
                      key=lambda s: -value[s.id])
        spare += max(0, quota - len(pool))
        picked.update(s.id for s in pool[:quota])
    return picked


def pick_odds(stories, runs=400, seed=0):
    """How often each story would be picked over many weeks of the editor's mood: the best any
    ranking of these stories can do is to rank by this."""
    r = random.Random(seed)
    n = {s.id: 0 for s in stories}
    for _ in range(runs):
        for i in choose(stories, {s.id: s.expected + r.gauss(0, NOISE) for s in stories}):
            n[i] += 1
    return {i: c / runs for i, c in n.items()}


def generate(seed=1, weeks=9):
    """Returns (feeds, {week: [Story]})."""
    g = Gen(seed)
    return g.feeds, {w: g.week(w) for w in range(1, weeks + 1)}


def week_end(w):
    """The replay time of week w: its Sunday, 18:00 UTC (the editor's last evening)."""
    return START + dt.timedelta(days=7 * (w - 1) + 6, hours=18)


def rfc822(t):
    return t.strftime("%a, %d %b %Y %H:%M:%S +0000")


def feed_xml(feed, stories, base):
    """An RSS 2.0 document with the feed's stories (newest first), as its site serves it."""
    items = []
    for s in sorted(stories, key=lambda s: s.published, reverse=True):
        author = f"<author>{escape(s.author)}</author>" if s.author else ""
        items.append(
            f"<item><title>{escape(s.title)}</title><link>{escape(s.url)}</link>"
            f"<guid isPermaLink=\"false\">{s.id}</guid><pubDate>{rfc822(s.published)}</pubDate>{author}"
            f"<description>{escape('<p>' + s.body + '</p>')}</description></item>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
            f"<title>{escape(feed.name)}</title><link>https://{feed.host}/</link>"
            f"<description>{escape(feed.name)}</description>\n" + "\n".join(items) + "\n</channel></rss>\n")


def served(feeds_, weeks, w, keep=20):
    """What each feed serves on week w's last evening: its latest `keep` stories up to then."""
    out = {}
    for f in feeds_:
        mine = [s for wk in range(1, w + 1) for s in weeks[wk] if s.feed == f.slug or f.slug in s.also]
        mine = [s for s in mine if s.published <= week_end(w)]
        mine.sort(key=lambda s: s.published)
        out[f.slug] = mine[-keep:]
    return out


def issue_markdown(number, w, stories):
    """A past issue in the shape `gleaner draft` writes."""
    date = week_end(w)
    lines = [f"# {TITLE}: issue {number}", "", date.strftime("%A %-d %B %Y")]
    for section in PICKS:
        items = [s for s in stories if s.pick and s.section == section]
        if not items:
            continue
        lines += ["", f"## {section}"]
        for s in items:
            lines += ["", s.blurb, s.url]
    return "\n".join(lines) + "\n"


def issue_html(number, w, stories):
    """A past issue as the e-mail that was sent, with what mail tools put around it."""
    date = week_end(w)
    out = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + TITLE + "</title></head><body>",
           "<table><tr><td><a href=\"https://mail.example/view?id=" + str(number) + "\">View this email in your browser</a></td></tr></table>",
           f"<h1>{TITLE}: issue {number}</h1>", f"<p>{date.strftime('%A %-d %B %Y')}</p>"]
    for section in PICKS:
        items = [s for s in stories if s.pick and s.section == section]
        if not items:
            continue
        out.append(f"<h2>{section}</h2>")
        for s in items:
            out.append(f"<p>{escape(s.blurb)}<br>\n<a href=\"{escape(s.url)}?utm_source=newsletter&amp;utm_medium=email\">{escape(s.url)}</a></p>")
    out.append("<p><a href=\"https://mail.example/unsubscribe?u=1\">Unsubscribe</a> | "
               "<a href=\"https://mail.example/prefs?u=1\">Update your preferences</a></p></body></html>")
    return "\n".join(out) + "\n"


def past_issues(weeks, upto=3):
    """{file name: text} of the back catalogue: weeks 1..upto."""
    out = {}
    for w in range(1, upto + 1):
        if w == upto:
            out[f"issue-{w}.html"] = issue_html(w, w, weeks[w])
        else:
            out[f"issue-{w}.md"] = issue_markdown(w, w, weeks[w])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--weeks", type=int, default=9)
    a = ap.parse_args()
    feeds_, weeks = generate(a.seed, a.weeks)
    os.makedirs(a.out, exist_ok=True)
    for name, text in past_issues(weeks).items():
        with open(os.path.join(a.out, name), "w") as f:
            f.write(text)
    for w, stories in weeks.items():
        d = os.path.join(a.out, f"week-{w}")
        os.makedirs(d, exist_ok=True)
        for slug, mine in served(feeds_, weeks, w).items():
            with open(os.path.join(d, slug + ".xml"), "w") as f:
                f.write(feed_xml(next(x for x in feeds_ if x.slug == slug), mine, ""))
        with open(os.path.join(d, "picks.json"), "w") as f:
            json.dump([dict(url=s.url, title=s.title, section=s.section, kind=s.kind, feed=s.feed)
                       for s in stories if s.pick], f, indent=1)
        kinds = {}
        for s in stories:
            kinds[s.kind.split(":")[0]] = kinds.get(s.kind.split(":")[0], 0) + 1
        print(f"week {w}: {len(stories)} stories, {sum(s.pick for s in stories)} picks; {kinds}")


if __name__ == "__main__":
    main()
