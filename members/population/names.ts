/**
 * Name material for the synthetic population: common Khmer family and given names with their
 * usual romanisation. Spellings are representative, not authoritative — every person in the
 * simulation is fictional. The lists are laid out as tables by hand (prettier-ignore): one name
 * a line would make them four screens long.
 */
// prettier-ignore
export const FAMILY_NAMES: ReadonlyArray<readonly [kh: string, en: string]> = [
  ['សុខ', 'SOK'], ['ចាន់', 'CHAN'], ['គីម', 'KIM'], ['លីម', 'LIM'], ['ហេង', 'HENG'], ['ជា', 'CHEA'],
  ['កែវ', 'KEO'], ['មាស', 'MEAS'], ['ផាន', 'PHAN'], ['ង៉ែត', 'NGET'], ['លី', 'LY'], ['សេង', 'SENG'],
  ['ពេជ្រ', 'PICH'], ['ប្រាក់', 'PRAK'], ['សំ', 'SAM'], ['អ៊ុក', 'OUK'], ['ទូច', 'TOUCH'], ['យឹម', 'YIM'],
  ['ម៉ៅ', 'MAO'], ['ស៊ន', 'SORN'], ['ឈឹម', 'CHHIM'], ['នួន', 'NUON'], ['ហ៊ុយ', 'HUY'], ['វង្ស', 'VONG'],
  ['ស្រ៊ុន', 'SRUN'], ['ខៀវ', 'KHIEV'], ['តាំង', 'TANG'], ['ឡុង', 'LONG'], ['អ៊ឹម', 'IM'], ['ញឹម', 'NHIM'],
];

// prettier-ignore
export const GIVEN_NAMES_MALE: ReadonlyArray<readonly [kh: string, en: string]> = [
  ['តារា', 'DARA'], ['វណ្ណា', 'VANNA'], ['រិទ្ធី', 'RITHY'], ['កុសល', 'KOSAL'], ['ពិសិដ្ឋ', 'PISETH'],
  ['វិសាល', 'VISAL'], ['បុរី', 'BOREY'], ['មករា', 'MAKARA'], ['រតនៈ', 'RATANAK'], ['សុវណ្ណ', 'SOVANN'],
  ['សំណាង', 'SAMNANG'], ['វាសនា', 'VEASNA'], ['សុភ័ក្ត្រ', 'SOPHEAK'], ['ចន្ទ្រា', 'CHANTRA'], ['សុភាព', 'SOPHEAP'],
  ['ប៊ុនថន', 'BUNTHOEUN'], ['ពិសាល', 'PISAL'], ['ចំរើន', 'CHAMROEUN'], ['សុខុម', 'SOKHOM'], ['វិចិត្រ', 'VICHET'],
];

// prettier-ignore
export const GIVEN_NAMES_FEMALE: ReadonlyArray<readonly [kh: string, en: string]> = [
  ['សុភា', 'SOPHEA'], ['ស្រីមុំ', 'SREYMOM'], ['បុប្ផា', 'BOPHA'], ['សុខា', 'SOKHA'], ['ចិន្តា', 'CHENDA'],
  ['ណារី', 'NARY'], ['ចន្ធី', 'CHANTHY'], ['លក្ខិណា', 'LEAKHENA'], ['ធីតា', 'THIDA'], ['ពិសី', 'PISEY'],
  ['កញ្ញា', 'KANHA'], ['រចនា', 'RACHANA'], ['ផល្លា', 'PHALLA'], ['សុគន្ធា', 'SOKUNTHEA'], ['ស្រីនិច', 'SREYNICH'],
  ['ម៉ាលីស', 'MALIS'], ['ដាវី', 'DAVY'], ['សុធារី', 'SOTHEARY'], ['រស្មី', 'RASMEY'], ['មុន្នី', 'MONNY'],
];

// prettier-ignore
export const PROVINCES: readonly string[] = [
  'Phnom Penh', 'Siem Reap', 'Battambang', 'Kampong Cham', 'Kandal', 'Takeo', 'Kampot', 'Prey Veng',
  'Svay Rieng', 'Kampong Speu', 'Kampong Thom', 'Pursat', 'Kratie', 'Preah Sihanouk', 'Banteay Meanchey', 'Koh Kong',
];
