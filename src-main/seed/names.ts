/**
 * Vocabulary for demo directories: common given and family names from many countries (so a demo
 * list looks like a real multinational), departments with their job titles, offices. Plain data.
 */

// prettier-ignore
export const GIVEN_NAMES = [
  'Aiko', 'Alejandro', 'Amara', 'Anna', 'Arjun', 'Astrid', 'Ben', 'Camila', 'Chen', 'Chloe', 'Daniel', 'Dmitri',
  'Elena', 'Emeka', 'Emma', 'Fatima', 'Felix', 'Freya', 'Gabriel', 'Grace', 'Hana', 'Hiroshi', 'Ibrahim', 'Ines',
  'Isabella', 'Jakob', 'James', 'Jin', 'Johanna', 'Jorge', 'Kai', 'Karin', 'Kofi', 'Lars', 'Layla', 'Leon', 'Liam',
  'Lucia', 'Luis', 'Maya', 'Mateo', 'Mei', 'Mia', 'Mohammed', 'Nadia', 'Noah', 'Nora', 'Olivia', 'Omar', 'Pablo',
  'Priya', 'Rafael', 'Ravi', 'Rosa', 'Sakura', 'Samuel', 'Sara', 'Sebastian', 'Sofia', 'Tariq', 'Thomas',
  'Valentina', 'Wei', 'Yara', 'Yusuf', 'Zara', 'Zoe', 'Ahmed', 'Beatriz', 'Chiara', 'David', 'Eva', 'Hugo', 'Ingrid',
  'Jonas', 'Kenji', 'Lea', 'Marco', 'Nia', 'Oskar', 'Paula', 'Quentin', 'Ruth', 'Sven', 'Tomas', 'Uma', 'Victor',
  'Wanjiru',
] as const;

// prettier-ignore
export const FAMILY_NAMES = [
  'Abe', 'Adeyemi', 'Alvarez', 'Andersen', 'Bauer', 'Becker', 'Bianchi', 'Brown', 'Chen', 'Costa', 'Da Silva',
  'Dubois', 'Eriksson', 'Fernandez', 'Fischer', 'Garcia', 'Gonzalez', 'Haddad', 'Hansen', 'Hoffmann', 'Ivanova',
  'Jensen', 'Johnson', 'Kim', 'Kowalski', 'Kumar', 'Larsen', 'Lee', 'Lopez', 'Martin', 'Meyer', 'Mohamed', 'Moreau',
  'Muller', 'Nakamura', 'Nguyen', 'Novak', 'Okafor', 'Olsen', 'Patel', 'Petrov', 'Ramirez', 'Rossi', 'Said',
  'Santos', 'Sato', 'Schmidt', 'Silva', 'Singh', 'Smith', 'Suzuki', 'Tanaka', 'Taylor', 'Thomas', 'Tran', 'Wagner',
  'Wang', 'Weber', 'Williams', 'Wilson', 'Wong', 'Yamamoto', 'Yilmaz', 'Zhang', 'Zimmermann', "O'Brien", 'Mensah',
  'Horvat', 'Berg',
] as const;

export const DEPARTMENTS: readonly { readonly name: string; readonly titles: readonly string[] }[] = [
  {
    name: 'Engineering',
    titles: ['Software Engineer', 'Senior Software Engineer', 'Site Reliability Engineer', 'QA Engineer'],
  },
  { name: 'Product', titles: ['Product Manager', 'Product Designer', 'UX Researcher'] },
  { name: 'Sales', titles: ['Account Executive', 'Sales Development Representative', 'Solutions Engineer'] },
  { name: 'Marketing', titles: ['Marketing Manager', 'Content Strategist', 'Brand Designer'] },
  { name: 'Finance', titles: ['Financial Analyst', 'Accountant', 'Controller'] },
  { name: 'People', titles: ['HR Business Partner', 'Recruiter', 'People Operations Specialist'] },
  { name: 'Support', titles: ['Support Engineer', 'Customer Success Manager', 'Technical Writer'] },
  { name: 'Legal', titles: ['Counsel', 'Paralegal', 'Compliance Analyst'] },
];

export const OFFICES = [
  'Berlin',
  'Lagos',
  'London',
  'Madrid',
  'Mumbai',
  'New York',
  'Sao Paulo',
  'Seoul',
  'Sydney',
  'Toronto',
] as const;

// prettier-ignore
export const PROJECT_WORDS = [
  'Apollo', 'Aurora', 'Beacon', 'Cascade', 'Comet', 'Falcon', 'Granite', 'Harbor', 'Juniper', 'Lighthouse', 'Maple',
  'Meridian', 'Nimbus', 'Orion', 'Pioneer', 'Quartz', 'Redwood', 'Sequoia', 'Summit', 'Tidal', 'Vertex', 'Zephyr',
] as const;
