/**
 * Given names and their common short forms, as groups of equivalent names (ASCII, lower case).
 *
 * A small CURATED table, maintained here by hand: npm has no maintained nickname package (the
 * lists that exist are Python or CSV data sets), so this table covers the hypocorisms a bank
 * in Western Europe or North America sees most — English, French, German, Spanish, Italian —
 * and is meant to be extended. A name may sit in several groups ("alex", "chris", "sam").
 * Two names are nickname-equivalent when some group holds both.
 */
const GROUPS: readonly string[] = [
  // English
  'abigail abby abbie gail',
  'alexander alex alec alexis sandy sasha xander',
  'alexandra alex alexa sandra sandy sasha lexi',
  'albert al bert bertie',
  'alfred alf alfie fred',
  'andrew andy drew',
  'anthony tony ant',
  'arthur art artie',
  'barbara barb babs barbie',
  'benjamin ben benny benji',
  'bernard bernie',
  'catherine katherine kathryn cathy kathy kate katie kat kit cate',
  'charles charlie chuck chas chaz',
  'charlotte charlie lottie',
  'christopher chris kit topher',
  'christine christina chris tina chrissy kristina kristine',
  'christian chris',
  'daniel dan danny',
  'danielle dani',
  'david dave davy',
  'deborah debra deb debbie',
  'donald don donnie',
  'dorothy dot dottie dolly',
  'edward ed eddie ted teddy ned',
  'edwin ed eddie',
  'elizabeth liz lizzie beth betty betsy eliza elisa lisa libby bess',
  'eleanor ellie nell nora elle',
  'emily em emmy',
  'emma em emmy',
  'eugene gene',
  'frances fran frannie',
  'francis frank frankie fran',
  'frederick fred freddie freddy fritz',
  'gabriel gabe',
  'gabrielle gabby gaby',
  'geoffrey jeffrey geoff jeff',
  'gerald gerry jerry',
  'gregory greg',
  'harold harry hal',
  'henry harry hank hal',
  'isabella isabel isabelle bella izzy isa',
  'jacob jake',
  'james jim jimmy jamie jem',
  'jane janie jenny',
  'janet jan',
  'jennifer jen jenny jenn',
  'jessica jess jessie',
  'john jon johnny jack',
  'jonathan jon jonny nathan',
  'joseph joe joey jo',
  'josephine jo josie',
  'joshua josh',
  'judith judy jude',
  'kenneth ken kenny',
  'lawrence laurence larry laurie',
  'leonard leo len lenny',
  'louis lou louie',
  'louise lou lulu',
  'margaret maggie meg peggy marge margie greta',
  'matthew matt matty',
  'michael mike mikey mick mickey',
  'nathaniel nathan nate nat',
  'nicholas nick nicky nico',
  'nicole nicky nikki',
  'oliver ollie',
  'olivia liv livvy',
  'pamela pam',
  'patricia pat patty trish tricia',
  'patrick pat paddy',
  'peter pete',
  'philip phillip phil pip',
  'rebecca becky becca',
  'richard rich rick ricky dick',
  'robert rob robbie bob bobby bert',
  'ronald ron ronnie',
  'samuel sam sammy',
  'samantha sam sammy',
  'sarah sara sally sadie',
  'stephen steven steve stevie',
  'susan sue susie suzy',
  'theodore theo ted teddy',
  'thomas tom tommy',
  'timothy tim timmy',
  'victoria vicky tori',
  'walter walt wally',
  'william will bill billy willy liam',
  'zachary zach zack',
  // French
  'jean-baptiste baptiste jb',
  'jean-francois jf',
  'jean-pierre jp',
  'francois franck',
  'guillaume guigui',
  'nicolas nico',
  'frederic fred',
  'frederique fred',
  'dominique dom',
  'christophe chris',
  'stephane steph',
  'stephanie steph fanny',
  'benedicte bene',
  'alexandre alex',
  'maximilien max maxime',
  'mathieu matthieu mat',
  'sebastien seb',
  'valerie val',
  'veronique vero',
  'emmanuel manu',
  'emmanuelle manue',
  'isabelle isa babette',
  'marie-christine marie',
  'jacqueline jacky',
  // German
  'johann johannes hans hannes',
  'johanna hanna hanne',
  'wolfgang wolf',
  'friedrich fritz',
  'katharina katrin kathi',
  'elisabeth lisa liesl elke sissi',
  'margarete grete gretel',
  'stefan steffen steff',
  'matthias matze',
  'michaela micha',
  'andreas andi',
  'alexandra sascha',
  'susanne susi sanne',
  // Spanish and Italian
  'jose pepe',
  'francisco paco pancho',
  'manuel manolo',
  'guadalupe lupe',
  'dolores lola',
  'ignacio nacho',
  'enrique quique',
  'antonio tono toni',
  'concepcion concha conchita',
  'rafael rafa',
  'alejandro alex ale',
  'jesus chucho',
  'giuseppe beppe peppe',
  'giovanni gianni',
  'francesco franco',
  'roberto rob',
  'massimo max',
  // Cross-language forms of the same name (transliteration and localisation)
  'john jean juan giovanni johann ivan sean',
  'peter pierre pedro pietro piotr petr pyotr',
  'michael michel miguel michele mikhail',
  'joseph jose giuseppe jozef',
  'dmitry dmitri dmitrii dmitriy dima',
  'alexei aleksei aleksey alexey alyosha',
  'yuri yury iurii',
  'sergei sergey serge',
  'nikolai nikolay nicolas kolya',
  'katerina ekaterina katya',
  'natalia natalya natasha natalie nathalie',
  'mohammed muhammad mohamed mohammad',
  'yusuf youssef joseph',
];

const index = new Map<string, Set<number>>();
GROUPS.forEach((g, i) => {
  for (const name of g.split(' ')) {
    let s = index.get(name);
    if (s === undefined) {
      s = new Set();
      index.set(name, s);
    }
    s.add(i);
  }
});

/** True when `a` and `b` (normalised given names) are equal or nickname-equivalent. */
export function nicknameEquivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = index.get(a);
  const gb = index.get(b);
  if (ga === undefined || gb === undefined) return false;
  for (const g of ga) if (gb.has(g)) return true;
  return false;
}
