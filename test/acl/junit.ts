import { DOMParser } from '@xmldom/xmldom';

/** A JUnit report read back with a real XML parser (strict: any parse complaint throws). */
export interface JUnitReport {
  readonly suites: number;
  readonly suite: Record<string, string>;
  readonly testcases: ReadonlyArray<{ classname: string; name: string; failure?: { message: string; type: string; text: string } }>;
}

export function parseJUnit(xml: string): JUnitReport {
  const complain = (level: string) => (msg: string) => {
    throw new Error(`JUnit XML ${level}: ${msg}`);
  };
  const doc = new DOMParser({ errorHandler: { warning: complain('warning'), error: complain('error'), fatalError: complain('fatal error') } }).parseFromString(xml, 'text/xml');
  const attrs = (el: Element) => Object.fromEntries(Array.from({ length: el.attributes.length }, (_, i) => [el.attributes[i]!.name, el.attributes[i]!.value]));
  const suites = doc.getElementsByTagName('testsuite');
  const testcases = Array.from({ length: doc.getElementsByTagName('testcase').length }, (_, i) => {
    const tc = doc.getElementsByTagName('testcase')[i]!;
    const failure = tc.getElementsByTagName('failure')[0];
    return {
      classname: tc.getAttribute('classname') ?? '',
      name: tc.getAttribute('name') ?? '',
      ...(failure ? { failure: { message: failure.getAttribute('message') ?? '', type: failure.getAttribute('type') ?? '', text: failure.textContent ?? '' } } : {}),
    };
  });
  return { suites: suites.length, suite: suites[0] ? attrs(suites[0] as unknown as Element) : {}, testcases };
}
